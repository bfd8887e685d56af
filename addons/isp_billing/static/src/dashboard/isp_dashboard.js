import { Component, onMounted, onWillStart, useState } from "@odoo/owl";
import { deserializeDate, deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useSetupAction } from "@web/search/action_hook";
import { Layout } from "@web/search/layout";
import { formatFloat, formatMonetary } from "@web/views/fields/formatters";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

// The revenue chart's drawing box (SVG user units; it scales with the screen's width).
const CHART = { width: 1200, height: 260, left: 84, right: 12, top: 12, bottom: 46 };
const CHART_X_LABELS = 8; // at most this many dates under the x axis

/**
 * The ISP back-office dashboard (client action ``isp_billing.dashboard``).
 *
 * One period (today, 7, 30 or 90 days, chosen at the top) for every figure over time: each
 * card says the time it covers (its ``window``: the period, "now" or "all dates"). One RPC
 * (``isp.dashboard.get_dashboard_data``) brings every figure of the landing screen; the
 * customer KPIs (ARPU, MRR, new / returning, churn over the whole purchase history) come
 * right after from ``get_kpi_data``, so they never hold the screen back. Each card opens
 * the records behind its figure (the action comes with the card, or from
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
            period: this.props.state?.period || "30d",
        });
        // back from a list opened by a card: same period and churn delay
        useSetupAction({
            getLocalState: () => ({ churnDays: this.state.churnDays, period: this.state.period }),
        });
        onWillStart(() => this.loadFigures());
        onMounted(() => this.loadKpis());
    }

    get options() {
        return { period: this.state.period, churn_days: this.state.churnDays };
    }

    async load() {
        await Promise.all([this.loadFigures(), this.loadKpis()]);
    }

    async loadFigures() {
        this.state.loading = true;
        try {
            this.state.data = await this.orm.call("isp.dashboard", "get_dashboard_data", [], {
                options: { period: this.state.period },
            });
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

    async onPeriodChange(period) {
        if (period === this.state.period) {
            return;
        }
        this.state.period = period;
        this.state.kpis = null;
        await this.load();
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

    /**
     * The revenue chart as SVG shapes: stacked bars (paid below, unpaid above), the y axis
     * with 0, half and the top of a rounded scale, and dates (or hours) under the x axis.
     */
    chart(chart) {
        const { width, height, left, right, top, bottom } = CHART;
        const plotWidth = width - left - right;
        const plotHeight = height - top - bottom;
        const totals = chart.points.map((point) => point.paid + point.unpaid);
        const scaleMax = this.niceMax(Math.max(...totals, 0));
        const step = plotWidth / chart.points.length;
        const barWidth = Math.max(step * 0.7, 1);
        const y = (value) => top + plotHeight - (plotHeight * value) / scaleMax;
        const labelEvery = Math.ceil(chart.points.length / CHART_X_LABELS);
        const bars = chart.points.map((point, index) => {
            const x = left + index * step + (step - barWidth) / 2;
            const label = this.chartLabel(chart, point);
            return {
                key: point.x,
                x,
                width: barWidth,
                paidY: y(point.paid),
                paidHeight: y(0) - y(point.paid),
                unpaidY: y(point.paid + point.unpaid),
                unpaidHeight: y(point.paid) - y(point.paid + point.unpaid),
                title: _t("%(when)s: paid %(paid)s, unpaid %(unpaid)s", {
                    when: label,
                    paid: this.money(point.paid, chart.currency_id),
                    unpaid: this.money(point.unpaid, chart.currency_id),
                }),
                label: index % labelEvery === 0 ? label : "",
                labelX: x + barWidth / 2,
            };
        });
        const ticks = [0, scaleMax / 2, scaleMax].map((value) => ({
            value,
            y: y(value),
            text: formatFloat(value, { humanReadable: true, decimals: 1, trailingZeros: false }),
        }));
        return {
            viewBox: `0 0 ${width} ${height}`,
            width,
            height,
            left,
            right: width - right,
            top,
            bottom: top + plotHeight,
            xTitleX: left + plotWidth / 2,
            xTitleY: height - 4,
            yTitleX: 14,
            yTitleY: top + plotHeight / 2,
            bars,
            ticks,
        };
    }

    chartLabel(chart, point) {
        if (chart.by_hour) {
            return point.x;
        }
        return deserializeDate(point.x).toFormat("d MMM");
    }

    /** The top of the y axis: the smallest of 1, 2, 4, 5, 6, 8 × 10ⁿ above the value. */
    niceMax(value) {
        if (value <= 0) {
            return 10;
        }
        const magnitude = 10 ** Math.floor(Math.log10(value));
        for (const factor of [1, 2, 4, 5, 6, 8, 10]) {
            if (value <= factor * magnitude) {
                return factor * magnitude;
            }
        }
        return 10 * magnitude;
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
