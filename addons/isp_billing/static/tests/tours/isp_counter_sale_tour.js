import { registry } from "@web/core/registry";

/**
 * The counter screen: a walk-in customer's phone (nobody has it yet, so the name is asked),
 * a bundle at its price taxes included, mobile money chosen then cash, confirmed: the
 * screen shows the access given and the receipt button.
 */
registry.category("web_tour.tours").add("isp_billing_counter_sale_tour", {
    url: "/odoo/action-isp_billing.isp_counter_sale_action",
    steps: () => [
        {
            content: "Type the customer's phone, in the local spelling",
            trigger: ".o_field_widget[name='phone'] input",
            run: "edit 0744 777 888 && click body",
        },
        {
            content: "Nobody has this number: the new customer's name is asked",
            trigger: ".o_field_widget[name='customer_name'] input",
            run: "edit Tour Walk-in && click body",
        },
        {
            content: "Choose the bundle",
            trigger: ".o_field_widget[name='bundle_id'] input",
            run: "edit Tour Daily",
        },
        {
            content: "Pick it in the list",
            trigger: ".o-autocomplete--dropdown-item a:contains(Tour Daily)",
            run: "click",
        },
        {
            content: "The price the customer pays, taxes included",
            trigger: ".o_isp_counter_sale_price:contains(3,500)",
        },
        {
            content: "Mobile money asks for the receipt code",
            trigger: ".o_field_widget[name='payment_method'] input[data-value='mobile_money']",
            run: "click",
        },
        {
            content: "The receipt code field is there",
            trigger: ".o_isp_counter_sale_receipt_code input",
        },
        {
            content: "Paid in cash after all",
            trigger: ".o_field_widget[name='payment_method'] input[data-value='cash']",
            run: "click",
        },
        {
            content: "No receipt code for cash",
            trigger: ".o_form_view:not(:has(.o_isp_counter_sale_receipt_code input))",
        },
        {
            content: "Confirm the sale",
            trigger: ".o_isp_counter_sale_confirm",
            run: "click",
        },
        {
            content: "Access given to the new customer",
            trigger: ".o_isp_counter_sale_done:contains(Tour Walk-in)",
        },
        {
            content: "The receipt can be printed",
            trigger: ".o_isp_counter_sale_print",
        },
    ],
});
