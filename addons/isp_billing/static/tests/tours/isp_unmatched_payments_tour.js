import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/**
 * An accountant who is not ISP staff: Invoicing › Customers › Unmatched Mobile-Money
 * Payments lists the mobile-money payment not matched to an invoice.
 */
registry.category("web_tour.tours").add("isp_billing_unmatched_payments_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "No ISP app for an accountant",
            trigger:
                ".o-dropdown--menu:has(.o_app[data-menu-xmlid='account.menu_finance']):not(:has(.o_app[data-menu-xmlid='isp_billing.menu_isp_root']))",
        },
        {
            content: "Open Invoicing",
            trigger: ".o_app[data-menu-xmlid='account.menu_finance']",
            run: "click",
        },
        {
            content: "Customers",
            trigger: ".o_main_navbar [data-menu-xmlid='account.menu_finance_receivables']",
            run: "click",
        },
        {
            content: "Unmatched Mobile-Money Payments",
            trigger:
                ".o-dropdown--menu [data-menu-xmlid='isp_billing.menu_isp_unmatched_payments_invoicing']",
            run: "click",
        },
        {
            content: "The unmatched payment, and only it",
            trigger: ".o_list_view .o_data_row:count(1):contains(UNMATCHED-MM-7)",
        },
    ],
});
