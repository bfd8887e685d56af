import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/**
 * The ISP app opens on the dashboard; every figure says its window, the period chosen
 * applies to all of them, revenue is split into paid and unpaid; a figure opens the
 * matching list, and the breadcrumb leads back to the dashboard on the same period.
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
            trigger: ".o_isp_dashboard .o_isp_card_active_subscriptions .o_isp_card_value:contains(3)",
        },
        {
            content: "Every figure over time covers the last 30 days, and says so",
            trigger: ".o_isp_dashboard .o_isp_card_revenue .o_isp_card_window:contains(last 30 days)",
        },
        {
            content: "Look at today",
            trigger: ".o_isp_periods .o_isp_period_today",
            run: "click",
        },
        {
            content: "Today's revenue, with its window",
            trigger: ".o_isp_dashboard .o_isp_card_revenue:has(.o_isp_card_window:contains(today)) .o_isp_card_value:contains(10,500)",
        },
        {
            content: "Split into paid...",
            trigger: ".o_isp_dashboard .o_isp_card_revenue_paid .o_isp_card_value:contains(7,000)",
        },
        {
            content: "... and unpaid",
            trigger: ".o_isp_dashboard .o_isp_card_revenue_unpaid .o_isp_card_value:contains(3,500)",
        },
        {
            content: "The chart follows: per hour, today",
            trigger: ".o_isp_revenue_chart .o_isp_chart_title:contains(Revenue per hour, today)",
        },
        {
            content: "The customer KPIs follow the period too",
            trigger: ".o_isp_dashboard .o_isp_card_new .o_isp_card_window:contains(today)",
        },
        {
            content: "Open the unpaid revenue",
            trigger: ".o_isp_dashboard .o_isp_card_revenue_unpaid",
            run: "click",
        },
        {
            content: "The list shows exactly the purchase not paid yet",
            trigger: ".o_list_view .o_data_row:count(1):contains(TOUR-CREDIT)",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb li.breadcrumb-item a",
            run: "click",
        },
        {
            content: "Still on today",
            trigger: ".o_isp_periods .o_isp_period_today.active",
        },
        {
            content: "Open the active users",
            trigger: ".o_isp_dashboard .o_isp_card_active_subscriptions",
            run: "click",
        },
        {
            content: "The list shows exactly the active subscriptions",
            trigger: ".o_list_view .o_data_row:count(3)",
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
