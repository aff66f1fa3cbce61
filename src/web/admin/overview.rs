//! `GET /admin`: the business at a glance.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;

use super::svg::{bar_chart, Column};
use super::Operator;
use crate::db::now;
use crate::operators::business::{self, Glance};
use crate::web::error::WebError;
use crate::web::pages::{format_optional_time, render, Layout};
use crate::web::AppState;

pub struct PlanLine {
    pub name: String,
    pub accounts: i64,
    pub monthly: String,
}

pub struct PastDueLine {
    pub email: String,
    pub email_query: String,
    pub plan: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    layout: Layout,
    billing: bool,
    glance: Glance,
    signups_total: i64,
    signups_chart: String,
    changes_chart: String,
    plans: Vec<PlanLine>,
    mrr: String,
    past_due: Vec<PastDueLine>,
}

/// Cents as money without a currency: plans are priced in Stripe's currency.
pub fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

#[get("")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
) -> Result<HttpResponse, WebError> {
    let plans = state.settings.billing.as_ref().map(|b| b.plans.clone());
    let at = now();
    let glance = state
        .db
        .run(move |conn| business::glance(conn, plans.as_ref(), at))
        .await?;
    let signups: Vec<Column> = glance
        .signups_per_day
        .iter()
        .map(|(day, n)| Column {
            label: day.format("%m-%d").to_string(),
            values: vec![*n],
        })
        .collect();
    let changes: Vec<Column> = glance
        .weeks
        .iter()
        .map(|w| Column {
            label: w.week.format("%m-%d").to_string(),
            values: vec![w.upgrades, w.downgrades, w.cancellations],
        })
        .collect();
    let page = OverviewPage {
        layout: Layout::new(&req, &state, Some(&operator.user)),
        billing: state.settings.billing.is_some(),
        signups_total: glance.signups_per_day.iter().map(|(_, n)| n).sum(),
        signups_chart: bar_chart("Sign-ups per day, last 30 days", &["sign-ups"], &signups, 5),
        changes_chart: bar_chart(
            "Upgrades, downgrades and cancellations per week",
            &["upgrades", "downgrades", "cancellations"],
            &changes,
            1,
        ),
        plans: glance
            .per_plan
            .iter()
            .map(|p| PlanLine {
                name: p.name.clone(),
                accounts: p.accounts,
                monthly: money(p.monthly_cents),
            })
            .collect(),
        mrr: money(glance.mrr_cents),
        past_due: glance
            .past_due
            .iter()
            .map(|p| PastDueLine {
                email: p.email.clone(),
                email_query: url::form_urlencoded::byte_serialize(p.email.as_bytes()).collect(),
                plan: p.plan.clone(),
                since: format_optional_time(&p.since),
            })
            .collect(),
        glance,
    };
    render(StatusCode::OK, &page)
}
