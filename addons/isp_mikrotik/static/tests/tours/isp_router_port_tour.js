import { registry } from "@web/core/registry";

/**
 * A router's API port reads as a port: 8728, not "8,728" (list and form).
 */
registry.category("web_tour.tours").add("isp_mikrotik_router_port_tour", {
    url: "/odoo/isp-routers",
    steps: () => [
        {
            content: "The routers' list",
            trigger: ".o_list_view .o_data_row:contains(Port Tower)",
        },
        {
            content: "Show the optional columns",
            trigger: ".o_optional_columns_dropdown button",
            run: "click",
        },
        {
            content: "Show the API port column",
            trigger: ".o-dropdown--menu .dropdown-item:contains(API Port) input",
            run: "click",
        },
        {
            content: "The port, without a thousands separator",
            trigger: ".o_data_row:contains(Port Tower) .o_data_cell[name='port']:text(8728)",
        },
        {
            content: "Open the router",
            trigger: ".o_data_row:contains(Port Tower) .o_data_cell[name='name']",
            run: "click",
        },
        {
            content: "The port field shows 8728",
            trigger: ".o_form_view .o_field_widget[name='port'] input:value(8728)",
        },
        {
            content: "Switch to api-ssl's port",
            trigger: ".o_form_view .o_field_widget[name='port'] input",
            run: "edit 8729",
        },
        {
            content: "Leave the field",
            trigger: ".o_form_view .o_field_widget[name='timeout'] input",
            run: "click",
        },
        {
            content: "Still no thousands separator",
            trigger: ".o_form_view .o_field_widget[name='port'] input:value(8729):not(:value(8,729))",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});
