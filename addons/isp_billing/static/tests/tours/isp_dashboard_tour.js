import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/**
 * The ISP app opens on the dashboard; a figure opens the matching list, and the breadcrumb
 * leads back to the dashboard.
 */
registry.category("web_tour.tours").add("isp_billing_dashboard_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the ISP app",
            trigger: ".o_app[data-menu-xmlid='isp_billing.menu_isp_root']",
            run: "click",
        },
        {
            content: "The dashboard is the landing screen, with its figures",
            trigger: ".o_isp_dashboard .o_isp_card_active_subscriptions .o_isp_card_value:contains(2)",
        },
        {
            content: "Revenue today is shown",
            trigger: ".o_isp_dashboard .o_isp_card_revenue_today .o_isp_card_value:contains(7,000)",
        },
        {
            content: "Open the active users",
            trigger: ".o_isp_dashboard .o_isp_card_active_subscriptions",
            run: "click",
        },
        {
            content: "The list shows exactly the active subscriptions",
            trigger: ".o_list_view .o_data_row:count(2)",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb li.breadcrumb-item a",
            run: "click",
        },
        {
            content: "Change the churn delay",
            trigger: ".o_isp_dashboard .o_isp_churn_days",
            run: "edit 14",
        },
        {
            content: "Leave the field (the change is applied)",
            trigger: ".o_isp_dashboard .o_isp_section_kpis h4",
            run: "click",
        },
        {
            content: "The churn figure follows the new delay",
            trigger: ".o_isp_dashboard .o_isp_card_churned .o_isp_card_label:contains(14 days)",
        },
    ],
});
