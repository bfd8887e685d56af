import { _t } from "@web/core/l10n/translation";
import { rpc, RPCError } from "@web/core/network/rpc";
import { patch } from "@web/core/utils/patch";

import { PaymentForm } from "@payment/interactions/payment_form";

const CODES = ["daraja", "clickpesa"];

patch(PaymentForm.prototype, {
    /**
     * M-Pesa and ClickPesa pay by a push to the customer's phone: direct flow.
     *
     * @override method from @payment/interactions/payment_form
     */
    async _prepareInlineForm(providerId, providerCode, paymentOptionId, paymentMethodCode, flow) {
        if (!CODES.includes(providerCode)) {
            await super._prepareInlineForm(...arguments);
            return;
        }
        if (flow !== "token") {
            this._setPaymentFlow("direct");
        }
    },

    _ispMpesaPhoneInput() {
        const radio = document.querySelector('input[name="o_payment_radio"]:checked');
        const inlineForm = radio && this._getInlineForm(radio);
        return inlineForm && inlineForm.querySelector('input[name="o_isp_mpesa_phone"]');
    },

    /**
     * Check the phone number is there before creating the transaction.
     *
     * @override method from @payment/interactions/payment_form
     */
    async _initiatePaymentFlow(providerCode, paymentOptionId, paymentMethodCode, flow) {
        if (CODES.includes(providerCode) && flow === "direct") {
            const input = this._ispMpesaPhoneInput();
            if (input && !input.reportValidity()) {
                this._enableButton();
                return;
            }
        }
        await super._initiatePaymentFlow(...arguments);
    },

    /**
     * Send the push, then follow the payment on the status page.
     *
     * @override method from @payment/interactions/payment_form
     */
    async _processDirectFlow(providerCode, paymentOptionId, paymentMethodCode, processingValues) {
        if (!CODES.includes(providerCode)) {
            await super._processDirectFlow(...arguments);
            return;
        }
        const input = this._ispMpesaPhoneInput();
        try {
            const result = await this.waitFor(
                rpc("/payment/isp_mpesa/push", {
                    reference: processingValues.reference,
                    access_token: processingValues.isp_push_access_token,
                    phone: input ? input.value : "",
                })
            );
            if (result.error && result.state === "draft") {
                this._displayErrorDialog(_t("Payment not sent"), result.error);
                this._enableButton();
                return;
            }
            window.location = "/payment/status";
        } catch (error) {
            if (error instanceof RPCError) {
                this._displayErrorDialog(_t("Payment processing failed"), error.data.message);
                this._enableButton();
            } else {
                return Promise.reject(error);
            }
        }
    },
});
