//! Seeding the demo plans, and subscriptions with their payment histories.

use deadpool_postgres::GenericClient;

use super::{Seeder, Tally, data};
use crate::accounts::model::UserId;
use crate::audit::{self, AuditEntity, Fields};
use crate::billing::model::{NewPayment, NewPlan, Plan};
use crate::billing::store::{self as billing, NewSubscription};
use crate::db::StoreError;

impl<C: GenericClient> Seeder<'_, C> {
    /// The demo plans, created when missing; returns every plan.
    pub(super) async fn plans(&self, tally: &mut Tally) -> Result<Vec<Plan>, StoreError> {
        let existing: Vec<Plan> = billing::all_plans(self.client)
            .await?
            .into_iter()
            .map(|(plan, _)| plan)
            .collect();
        let mut plans = existing.clone();
        for plan in data::PLANS {
            if existing.iter().any(|known| known.name == plan.name) {
                tally.count(false);
                continue;
            }
            let created = billing::create_plan(
                self.client,
                &NewPlan {
                    name: plan.name.to_owned(),
                    description: Some(plan.description.to_owned()),
                    price_cents: plan.price_cents,
                    currency: "USD".to_owned(),
                    interval: plan.interval,
                    features: plan
                        .features
                        .iter()
                        .map(|&feature| feature.to_owned())
                        .collect(),
                    sort_order: plan.sort_order,
                    stripe_price_id: None,
                },
            )
            .await?;
            self.audit(
                AuditEntity::SubscriptionPlans,
                created.id.0,
                audit::created(&created),
            )
            .await?;
            tally.count(true);
            plans.push(created);
        }
        Ok(plans)
    }

    /// A subscription with its payments, unless the user has one: the
    /// number of payments made, or `None` when it was there.
    pub(super) async fn subscription(
        &self,
        user_id: UserId,
        plan: &Plan,
        demo: &data::DemoSubscription,
    ) -> Result<Option<u32>, StoreError> {
        if billing::subscription_of(self.client, user_id)
            .await?
            .is_some()
        {
            return Ok(None);
        }
        let at = |days: Option<i64>| days.map(|days| self.days_ago(days));
        let subscription = billing::insert_subscription(
            self.client,
            &NewSubscription {
                user_id,
                plan_id: plan.id,
                status: demo.status,
                current_period_start: at(demo.period_start_days_ago),
                current_period_end: at(demo.period_end_days_ago),
                cancel_at_period_end: false,
                canceled_at: at(demo.canceled_days_ago),
                trial_end: at(demo.trial_end_days_ago),
                created_at: self.days_ago(demo.started_days_ago),
            },
        )
        .await?;
        self.audit(
            AuditEntity::Subscriptions,
            subscription.id.0,
            audit::created(&Fields::of("user_id", user_id)).and(audit::created(&subscription)),
        )
        .await?;
        for payment in demo.payments {
            let created = billing::record_payment_at(
                self.client,
                &NewPayment {
                    user_id,
                    subscription_id: Some(subscription.id),
                    amount_cents: plan.price_cents,
                    currency: plan.currency.clone(),
                    status: payment.status,
                    description: Some(payment.description.to_owned()),
                },
                self.days_ago(payment.days_ago),
            )
            .await?;
            self.audit(
                AuditEntity::Payments,
                created.id.0,
                audit::created(&Fields::of("user_id", user_id)).and(audit::created(&created)),
            )
            .await?;
        }
        Ok(Some(u32::try_from(demo.payments.len()).unwrap_or(u32::MAX)))
    }
}
