import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

const SECTIONS = ".o_main_navbar .o_menu_sections";

/** A top-level entry of the ISP app's menu bar, shown in the bar itself. */
function inBar(xmlid) {
    return `${SECTIONS} [data-menu-xmlid='isp_billing.${xmlid}']:visible`;
}

/** Fails unless the entries are in the bar, within the window's width. */
function checkWithinWidth(xmlids) {
    for (const xmlid of xmlids) {
        const entry = document.querySelector(
            `${SECTIONS} [data-menu-xmlid='isp_billing.${xmlid}']`
        );
        const rect = entry?.getBoundingClientRect();
        if (!rect || !rect.width || rect.right > window.innerWidth) {
            throw new Error(`${xmlid} is not within the ${window.innerWidth} px of the window`);
        }
        if (entry.closest(".d-none, .o_menu_sections_more")) {
            throw new Error(`${xmlid} went into the "more" menu`);
        }
    }
}

function openConfiguration(xmlid, content) {
    return [
        {
            content: "Open ISP › Configuration",
            trigger: inBar("menu_isp_configuration"),
            run: "click",
        },
        {
            content,
            trigger: `.o-dropdown--menu [data-menu-xmlid='${xmlid}']`,
            run: "click",
        },
    ];
}

/**
 * The ISP app's menu bar at 1366 px: Reporting and Configuration are in the bar (not in
 * the "more" dropdown); payment providers are in Configuration; the bundle form shows the
 * ISP fields first; Reporting opens the unmatched mobile-money payments.
 */
registry.category("web_tour.tours").add("isp_billing_navigation_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the ISP app",
            trigger: ".o_app[data-menu-xmlid='isp_billing.menu_isp_root']",
            run: "click",
        },
        { content: "Dashboard in the bar", trigger: inBar("menu_isp_dashboard") },
        { content: "Sales in the bar", trigger: inBar("menu_isp_sales") },
        { content: "Customers in the bar", trigger: inBar("menu_isp_customers_root") },
        { content: "Vouchers in the bar", trigger: inBar("menu_isp_vouchers") },
        { content: "Network in the bar", trigger: inBar("menu_isp_network") },
        { content: "Reporting in the bar", trigger: inBar("menu_isp_reporting") },
        { content: "Configuration in the bar", trigger: inBar("menu_isp_configuration") },
        {
            content: "Nothing overflows into the 'more' menu",
            trigger: `${SECTIONS}:not(:has(.o_menu_sections_more))`,
        },
        {
            content: "Reporting and Configuration are within the window's width",
            trigger: inBar("menu_isp_configuration"),
            run() {
                if (window.innerWidth !== 1366) {
                    throw new Error(`the window is ${window.innerWidth} px wide, not 1366`);
                }
                checkWithinWidth(["menu_isp_reporting", "menu_isp_configuration"]);
            },
        },
        ...openConfiguration("isp_billing.menu_isp_payment_providers", "Payment Providers"),
        {
            content: "The payment providers",
            trigger: ".o_action_manager .o_kanban_view .o_kanban_record",
        },
        {
            content: "The bar stays the ISP app's",
            trigger: inBar("menu_isp_reporting"),
        },
        ...openConfiguration("isp_billing.menu_isp_bundles", "Bundles"),
        {
            content: "A new bundle",
            trigger: ".o_list_button_add, .o-kanban-button-new",
            run: "click",
        },
        {
            content: "The ISP fields come first, the generic product tabs after them",
            trigger: ".o_form_sheet .o_isp_bundle_main ~ .o_notebook",
        },
        {
            content: "First: the service, its duration and its price",
            trigger:
                ".o_isp_bundle_main .o_inner_group:first:has([name='isp_service_type']):has([name='isp_duration_value']):has([name='list_price'])",
        },
        {
            content: "Then speed and data cap, devices and the marketing description",
            trigger:
                ".o_isp_bundle_main:has([name='isp_download_kbps']):has([name='isp_data_cap_mb']):has([name='isp_device_limit']):has([name='isp_marketing_description'])",
        },
        {
            content: "The product tab comes after",
            trigger: ".o_notebook .nav-link:contains(Product and Accounting)",
        },
        {
            content: "Name the bundle",
            trigger: ".o_field_widget[name='name'] textarea, .o_field_widget[name='name'] input",
            run: "edit Tour Daily 1 GB",
        },
        {
            content: "Its duration",
            trigger: ".o_isp_bundle_main .o_field_widget[name='isp_duration_value'] input",
            run: "edit 1",
        },
        {
            content: "Its price",
            trigger: ".o_isp_bundle_main .o_field_widget[name='list_price'] input",
            run: "edit 1500",
        },
        ...stepUtils.saveForm(),
        {
            content: "Reporting",
            trigger: inBar("menu_isp_reporting"),
            run: "click",
        },
        {
            content: "Unmatched Mobile-Money Payments",
            trigger: ".o-dropdown--menu [data-menu-xmlid='isp_billing.menu_isp_unmatched_payments']",
            run: "click",
        },
        {
            content: "The list of unmatched payments",
            trigger: ".o_list_view .o_list_table",
        },
    ],
});
