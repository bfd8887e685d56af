import { registry } from "@web/core/registry";

const IMPORT = ".modal .o_isp_router_import";

function previewSteps() {
    return [
        {
            content: "Open the import from the router's form",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Import from Router)",
            run: "click",
        },
        {
            content: "Read the router",
            trigger: ".modal-footer button[name=action_read]:contains(Read the Router)",
            run: "click",
        },
        {
            content: "The preview proposes the users with their customers",
            trigger: `${IMPORT} .o_field_one2many[name=line_ids] tr:contains(+255712345101):contains(Mikhmon's expiry date)`,
        },
        {
            content: "The admin account is not imported, and the preview says why",
            trigger: `${IMPORT} .o_field_one2many[name=line_ids] tr:contains(admin):contains(own or trial account)`,
        },
        {
            content: "Go to the bundles",
            trigger: `${IMPORT} a.nav-link:contains(Bundles)`,
            run: "click",
        },
        {
            content: "Mikhmon's validity and selling price were read",
            trigger: `${IMPORT} .o_field_one2many[name=bundle_line_ids] tr:contains(1day):contains(5,000.00)`,
        },
    ];
}

registry.category("web_tour.tours").add("isp_router_import_preview", {
    steps: () => [
        ...previewSteps(),
        {
            content: "Back to the users",
            trigger: `${IMPORT} a.nav-link:contains(Customers and Subscriptions)`,
            run: "click",
        },
        {
            content: "The preview is shown",
            trigger: `${IMPORT} .o_isp_import_summary`,
        },
    ],
});

registry.category("web_tour.tours").add("isp_router_import", {
    steps: () => [
        ...previewSteps(),
        {
            content: "The staff profile has no validity on the router: fill it in",
            trigger: `${IMPORT} .o_field_one2many[name=bundle_line_ids] tr:contains(staff) td[name=duration_value]`,
            run: "click",
        },
        {
            content: "30 days",
            trigger: `${IMPORT} .o_field_one2many[name=bundle_line_ids] .o_selected_row div[name=duration_value] input`,
            run: "edit 30",
        },
        {
            content: "Import",
            trigger: ".modal-footer button[name=action_import]",
            run: "click",
        },
        {
            content: "Done: what was created is said",
            trigger: `${IMPORT} .o_isp_import_result:contains(3 subscription(s) created)`,
        },
    ],
});
