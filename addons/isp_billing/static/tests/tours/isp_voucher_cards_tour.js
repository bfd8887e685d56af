import { registry } from "@web/core/registry";

/** A step checking that the batch's card layout shows ``label``. */
function layoutIs(label, extra = "") {
    return {
        content: `The batch prints as: ${label}`,
        trigger: `${extra}.o_field_widget[name='card_layout'] .o_select_menu_toggler`,
        run() {
            const shown = this.anchor.value || this.anchor.textContent;
            if (!shown.includes(label)) {
                throw new Error(`card layout: ${shown}`);
            }
        },
    };
}

/**
 * A batch of voucher cards: the 58 mm roll layout is chosen for printing, then the batch is
 * marked sold for cash (the journal is Cash by default): the form counts the cards sold.
 */
registry.category("web_tour.tours").add("isp_billing_voucher_cards_tour", {
    url: "/odoo/action-isp_billing.isp_voucher_batch_action",
    steps: () => [
        {
            content: "Open the batch",
            trigger: ".o_list_view .o_data_row td:contains(TOUR-CARDS)",
            run: "click",
        },
        layoutIs("A4, 30 cards a page"),
        {
            content: "Choose another layout",
            trigger: ".o_field_widget[name='card_layout'] .o_select_menu_toggler",
            run: "click",
        },
        {
            content: "The 58 mm receipt roll",
            trigger: ".o_select_menu_item:contains(58 mm roll, compact)",
            run: "click",
        },
        {
            content: "Save the batch",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_saved",
        },
        layoutIs("58 mm roll, compact"),
        {
            content: "The cards can be printed",
            trigger: "button[name='action_print_cards']",
        },
        {
            content: "The shop paid for the cards",
            trigger: "button[name='action_mark_sold']",
            run: "click",
        },
        {
            content: "Twelve cards, paid in cash",
            trigger: ".modal .o_field_widget[name='count']:contains(12)",
        },
        {
            content: "The Cash journal is chosen",
            trigger: ".modal .o_field_widget[name='journal_id'] input",
            run() {
                if (!/Cash/.test(this.anchor.value)) {
                    throw new Error(`journal: ${this.anchor.value}`);
                }
            },
        },
        {
            content: "Mark them sold",
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The sale is confirmed",
            trigger: ".o_notification:contains(12 cards sold)",
        },
        {
            content: "The batch counts the cards sold",
            trigger: "button[name='action_view_sold']:contains(12)",
        },
        {
            content: "Nothing left to sell: the button is gone",
            trigger: ".o_form_view:not(:has(button[name='action_mark_sold']))",
        },
    ],
});
