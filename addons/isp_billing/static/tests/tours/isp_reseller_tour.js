import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("isp_reseller_buy_batch", {
    url: "/my/reseller",
    steps: () => [
        {
            content: "The balance is shown",
            trigger: ".o_isp_reseller_balance:contains(20,000.00)",
        },
        {
            content: "Ask for 4 vouchers",
            trigger: ".o_isp_reseller_buy input[name=quantity]",
            run: "edit 4",
        },
        {
            content: "Buy them",
            trigger: ".o_isp_reseller_buy button[type=submit]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The batch is bought and paid from the balance",
            trigger: ".o_isp_reseller_bought",
        },
        {
            content: "The balance went down by the reseller price",
            trigger: ".o_isp_reseller_balance:contains(16,400.00)",
        },
        {
            content: "Download the codes",
            trigger: "a.o_isp_download_csv",
            run: "click",
        },
        {
            content: "The cards can be printed too",
            trigger: "a.o_isp_download_pdf",
        },
    ],
});
