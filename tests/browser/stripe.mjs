// A local stand-in for Stripe: the API calls Soloist makes (form-encoded
// requests with a bearer key, JSON answers shaped like Stripe's), and a
// hosted Checkout page. Paying on that page does what Stripe does: it
// delivers signed webhooks to Soloist and sends the browser back to the
// success URL.

import crypto from 'node:crypto';
import http from 'node:http';

export const SECRET_KEY = 'sk_test_browser_journey';
export const WEBHOOK_SECRET = 'whsec_browser_journey';

/** The `Stripe-Signature` header Stripe sends for `body`. */
export function signatureHeader(secret, timestamp, body) {
  const v1 = crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function json(response, status, value) {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(value));
}

function refused(response, status, message) {
  json(response, status, { error: { type: 'invalid_request_error', message } });
}

function checkoutPage(session) {
  const email = session.params.get('customer_email') ?? session.params.get('customer') ?? '';
  const price = session.params.get('line_items[0][price]') ?? '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Checkout (test mode)</title>
<style>
body{font-family:system-ui,sans-serif;background:#f6f9fc;color:#1a1f36;display:grid;place-items:center;min-height:100vh;margin:0}
main{background:#fff;padding:2rem 2.5rem;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.08);min-width:22rem}
button{background:#635bff;color:#fff;border:0;border-radius:6px;padding:.75rem 1.5rem;font-size:1rem;width:100%}
.muted{color:#697386}
</style></head>
<body><main>
<p class="muted">Test mode</p>
<h1>Subscribe</h1>
<p>Price <code id="price">${escape(price)}</code></p>
<p>Billed to <strong id="email">${escape(email)}</strong></p>
<form method="post" action="/pay/${escape(session.id)}"><button type="submit">Pay and subscribe</button></form>
</main></body></html>`;
}

/** Starts the stand-in on a free loopback port. `soloistUrl` is set later. */
export async function startStripe() {
  const state = {
    soloistUrl: null,
    sessions: new Map(),
    subscriptions: new Map(),
    deliveries: [],
  };
  let counter = 0;
  const next = (prefix) => `${prefix}_journey${(counter += 1)}`;

  async function deliver(type, object) {
    const created = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      id: next('evt'),
      object: 'event',
      api_version: '2024-06-20',
      created,
      type,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object },
    });
    const answer = await fetch(`${state.soloistUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Stripe-Signature': signatureHeader(WEBHOOK_SECRET, created, body) },
      body,
    });
    const text = await answer.text();
    state.deliveries.push({ type, status: answer.status, text });
    if (answer.status !== 200) throw new Error(`webhook ${type} answered ${answer.status}: ${text}`);
  }

  async function pay(session, response) {
    const params = session.params;
    const now = Math.floor(Date.now() / 1000);
    const customer = params.get('customer') ?? next('cus');
    const metadata = {
      user_id: params.get('subscription_data[metadata][user_id]'),
      plan_id: params.get('subscription_data[metadata][plan_id]'),
    };
    const subscription = {
      id: next('sub'),
      object: 'subscription',
      customer,
      status: 'active',
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      trial_end: null,
      current_period_start: now,
      current_period_end: now + 30 * 86400,
      livemode: false,
      metadata,
      items: {
        object: 'list',
        data: [
          {
            id: next('si'),
            object: 'subscription_item',
            price: { id: params.get('line_items[0][price]'), object: 'price', currency: 'usd', unit_amount: 1200, recurring: { interval: 'month' } },
            quantity: 1,
          },
        ],
      },
    };
    state.subscriptions.set(subscription.id, subscription);
    session.status = 'complete';
    const invoice = next('in');
    try {
      await deliver('customer.subscription.created', subscription);
      await deliver('checkout.session.completed', {
        id: session.id,
        object: 'checkout.session',
        mode: 'subscription',
        status: 'complete',
        payment_status: 'paid',
        client_reference_id: params.get('client_reference_id'),
        customer,
        customer_email: params.get('customer_email'),
        subscription: subscription.id,
        metadata: { user_id: params.get('metadata[user_id]'), plan_id: params.get('metadata[plan_id]') },
      });
      await deliver('invoice.paid', {
        id: invoice,
        object: 'invoice',
        customer,
        subscription: subscription.id,
        amount_due: 1200,
        amount_paid: 1200,
        currency: 'usd',
        status: 'paid',
        payment_intent: `pi_${invoice}`,
        charge: `ch_${invoice}`,
        number: `JOURNEY-${counter}`,
        hosted_invoice_url: null,
        lines: { object: 'list', data: [{ description: 'Subscription (first month)' }] },
      });
    } catch (error) {
      response.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(`Checkout failed: ${error.message}`);
      return;
    }
    const success = params.get('success_url').replace('{CHECKOUT_SESSION_ID}', session.id);
    response.writeHead(303, { Location: success });
    response.end();
  }

  const server = http.createServer(async (request, response) => {
    try {
      const url = new URL(request.url, 'http://stripe.test');
      const body = await readBody(request);
      const params = new URLSearchParams(body);
      const path = url.pathname;
      let match;
      if (path.startsWith('/v1/')) {
        if (request.headers.authorization !== `Bearer ${SECRET_KEY}`) {
          return refused(response, 401, 'Invalid API Key provided');
        }
      }
      if (request.method === 'POST' && path === '/v1/checkout/sessions') {
        if (params.get('mode') !== 'subscription' || !params.get('line_items[0][price]') || !params.get('success_url')) {
          return refused(response, 400, 'mode, line_items[0][price] and success_url are required');
        }
        const id = next('cs_test');
        state.sessions.set(id, { id, params, status: 'open' });
        return json(response, 200, { id, object: 'checkout.session', mode: 'subscription', status: 'open', url: `${state.url}/pay/${id}` });
      }
      if (request.method === 'POST' && (match = /^\/v1\/checkout\/sessions\/([\w]+)\/expire$/.exec(path))) {
        const session = state.sessions.get(match[1]);
        if (!session) return refused(response, 404, `No such checkout.session: '${match[1]}'`);
        if (session.status !== 'open') return refused(response, 400, 'Only open sessions can be expired');
        session.status = 'expired';
        return json(response, 200, { id: session.id, object: 'checkout.session', status: 'expired' });
      }
      if (request.method === 'POST' && path === '/v1/billing_portal/sessions') {
        return json(response, 200, { id: 'bps_journey', object: 'billing_portal.session', url: `${state.url}/portal` });
      }
      if ((match = /^\/v1\/subscriptions\/([\w]+)$/.exec(path))) {
        const subscription = state.subscriptions.get(match[1]);
        if (!subscription) return refused(response, 404, `No such subscription: '${match[1]}'`);
        if (request.method === 'POST') {
          if (params.has('cancel_at_period_end')) subscription.cancel_at_period_end = params.get('cancel_at_period_end') === 'true';
          if (params.has('items[0][price]')) subscription.items.data[0].price.id = params.get('items[0][price]');
        }
        return json(response, 200, subscription);
      }
      if ((match = /^\/pay\/([\w]+)$/.exec(path))) {
        const session = state.sessions.get(match[1]);
        if (!session || session.status !== 'open') {
          response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
          return response.end('This checkout session is not open.');
        }
        if (request.method === 'POST') return await pay(session, response);
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return response.end(checkoutPage(session));
      }
      return refused(response, 404, `Unrecognized request URL (${request.method}: ${path})`);
    } catch (error) {
      response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(String(error?.stack ?? error));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${server.address().port}`;
  return {
    state,
    get url() {
      return state.url;
    },
    set soloistUrl(url) {
      state.soloistUrl = url;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}
