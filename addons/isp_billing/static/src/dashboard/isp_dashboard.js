import { Component, onMounted, onWillStart, useState } from "@odoo/owl";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import { formatMonetary } from "@web/views/fields/formatters";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

/**
 * The ISP back-office dashboard (client action ``isp_billing.dashboard``).
 *
 * One RPC (``isp.dashboard.get_dashboard_data``) brings every figure of the landing screen;
 * the customer KPIs (ARPU, MRR, new / returning, churn over the whole purchase history) come
 * right after from ``get_kpi_data``, so they never hold the screen back. Each card opens the
 * records behind its figure (the action comes with the card, or from
 * ``isp.dashboard.action_open_figure`` for computed customer sets).
 */
export class IspDashboard extends Component {
    static template = "isp_billing.Dashboard";
    static components = { Layout };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.notification = useService("notification");
        this.state = useState({
            data: null,
            loading: true,
            kpis: null,
            kpiLoading: false,
            churnDays: this.props.state?.churnDays || 7,
        });
        onWillStart(() => this.loadFigures());
        onMounted(() => this.loadKpis());
    }

    get options() {
        return { churn_days: this.state.churnDays };
    }

    async load() {
        await Promise.all([this.loadFigures(), this.loadKpis()]);
    }

    async loadFigures() {
        this.state.loading = true;
        try {
            this.state.data = await this.orm.call("isp.dashboard", "get_dashboard_data", []);
        } finally {
            this.state.loading = false;
        }
    }

    async loadKpis() {
        this.state.kpiLoading = true;
        try {
            const result = await this.orm.call("isp.dashboard", "get_kpi_data", [], {
                options: this.options,
            });
            this.state.kpis = result.section;
        } finally {
            this.state.kpiLoading = false;
        }
    }

    async onChurnDaysChange(ev) {
        const value = parseInt(ev.target.value, 10);
        if (!Number.isInteger(value) || value < 1 || value > 365) {
            this.notification.add(_t("The churn delay must be between 1 and 365 days."), {
                type: "danger",
            });
            ev.target.value = this.state.churnDays;
            return;
        }
        this.state.churnDays = value;
        await this.loadKpis();
    }

    async openCard(card) {
        let action = card.action;
        if (!action && card.action_key) {
            action = await this.orm.call("isp.dashboard", "action_open_figure", [card.action_key], {
                options: this.options,
            });
        }
        if (action) {
            await this.actionService.doAction(action);
        }
    }

    openRecord(model, id) {
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: model,
            res_id: id,
            views: [[false, "form"]],
            target: "current",
        });
    }

    money(value, currencyId) {
        return formatMonetary(value, { currencyId });
    }

    cardValues(card) {
        if (card.kind === "monetary") {
            return card.amounts.map((amount) => this.money(amount.value, amount.currency_id));
        }
        return [String(card.value)];
    }

    dateTime(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    bars(series) {
        const max = Math.max(...series.points.map((point) => point.value), 0);
        return series.points.map((point) => ({
            ...point,
            height: max ? Math.max(Math.round((100 * point.value) / max), point.value ? 2 : 0) : 0,
            title: `${point.date}: ${this.money(point.value, series.currency_id)}`,
        }));
    }

    stateClass(state) {
        return (
            {
                done: "text-bg-success",
                pending: "text-bg-warning",
                authorized: "text-bg-info",
                error: "text-bg-danger",
                cancel: "text-bg-secondary",
                not_applied: "text-bg-danger",
                refunded: "text-bg-secondary",
            }[state] || "text-bg-light"
        );
    }
}

registry.category("actions").add("isp_billing.dashboard", IspDashboard);
