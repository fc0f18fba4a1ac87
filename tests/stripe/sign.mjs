// Signs webhook events with the official Stripe SDK, as Stripe signs them.
// One request a line on stdin, {"payload": "...", "secret": "whsec_...",
// "timestamp": 1790000000}; one `Stripe-Signature` header a line on stdout.
// The tests keep one of these running and send it every event they deliver.
import readline from 'node:readline';
import Stripe from 'stripe';

const stripe = new Stripe('sk_test_signer_only');
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  try {
    const { payload, secret, timestamp } = JSON.parse(line);
    const header = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
    process.stdout.write(`${header}\n`);
  } catch (error) {
    process.stdout.write(`error: ${String(error).replace(/\n/g, ' ')}\n`);
  }
}
