/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "registry.h"

/* The image half of org.freedesktop.machine1 (registry-images.c): the
 * manager's calls, which registry-bus.c puts in its vtable, and the image
 * objects below MACHINE1_IMAGE_PREFIX. */
int registry_method_list_images(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int registry_method_get_image(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int registry_method_remove_image(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int registry_method_rename_image(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int registry_method_clone_image(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int registry_method_mark_image_read_only(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int registry_method_get_image_os_release(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int registry_method_get_image_hostname(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int registry_method_get_image_machine_id(sd_bus_message *msg, void *userdata, sd_bus_error *error);

int registry_images_register(sd_bus *bus, Registry *r);
