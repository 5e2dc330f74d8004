import { patternRule, type Rule } from './rule.js';

/** Stripe secret and restricted keys; test-mode keys only open the sandbox. */
export const stripeKey: Rule = patternRule({
  id: 'stripe-secret-key',
  description:
    'Stripe secret or restricted API key (sk_live_, rk_live_; test mode at low confidence)',
  source: 'https://docs.stripe.com/keys',
  keywords: ['sk_live_', 'rk_live_', 'sk_test_', 'rk_test_'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_])[sr]k_(?:live|test)_[A-Za-z0-9]{20,247}(?![A-Za-z0-9])/g,
  validate: (secret) => (secret.slice(3, 7) === 'live' ? 'high' : 'low'),
});

/** Stripe webhook signing secrets. */
export const stripeWebhookSecret: Rule = patternRule({
  id: 'stripe-webhook-secret',
  description: 'Stripe webhook signing secret (whsec_)',
  source: 'https://docs.stripe.com/webhooks#verify-official-libraries',
  keywords: ['whsec_'],
  confidence: 'medium',
  pattern: /(?<![A-Za-z0-9_])whsec_[A-Za-z0-9+/]{32,}(?![A-Za-z0-9])/g,
});

/** Slack bot, user, app-level, configuration and refresh tokens. */
export const slackToken: Rule = patternRule({
  id: 'slack-token',
  description: 'Slack token (xoxb-, xoxp-, xoxa-, xoxe-, xoxe.xoxp-, xapp-)',
  source: 'https://api.slack.com/authentication/token-types',
  keywords: ['xox', 'xapp-'],
  confidence: 'high',
  pattern:
    /(?<![A-Za-z0-9_-])(?:xox[abpoesr](?:\.xox[bp])?-\d+-[A-Za-z0-9-]{8,}|xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,})(?![A-Za-z0-9-])/g,
});

/** Slack incoming webhooks and workflow triggers: the URL itself is the credential. */
export const slackWebhook: Rule = patternRule({
  id: 'slack-webhook-url',
  description: 'Slack incoming webhook or workflow trigger URL',
  source: 'https://api.slack.com/messaging/webhooks',
  keywords: ['hooks.slack.com'],
  confidence: 'high',
  pattern:
    /https:\/\/hooks\.slack\.com\/(?<secret>(?:services|workflows|triggers)\/[A-Za-z0-9]+\/[A-Za-z0-9]+\/[A-Za-z0-9/_-]{16,})/g,
});

/** Twilio API key SIDs (`SK` and 32 hex) and auth tokens / API secrets assigned by name. */
export const twilioCredential: Rule = patternRule({
  id: 'twilio-credential',
  description: 'Twilio API key SID or auth token / API key secret',
  source: 'https://www.twilio.com/docs/iam/api-keys',
  keywords: ['twilio'],
  confidence: 'high',
  pattern:
    /(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])|twilio[\w.-]{0,30}?(?:auth[_-]?token|secret|token)["'\]]*\s*(?:=>|:=|=|:)\s*["']?(?<secret>[A-Za-z0-9]{32})(?![A-Za-z0-9])/gi,
  validate: (secret) => (/^SK/.test(secret) ? 'medium' : 'high'),
});

/** SendGrid API keys: `SG.`, a 22-character key id, `.`, a 43-character secret. */
export const sendgridKey: Rule = patternRule({
  id: 'sendgrid-api-key',
  description: 'SendGrid API key (SG.)',
  source: 'https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys',
  keywords: ['sg.'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
});

/** Mailgun private API keys (`key-` and 32 hex) and the newer `hex32-hex8-hex8` keys. */
export const mailgunKey: Rule = patternRule({
  id: 'mailgun-api-key',
  description: 'Mailgun API key or webhook signing key (in a file that mentions Mailgun)',
  source: 'https://documentation.mailgun.com/docs/mailgun/api-reference/authentication/',
  keywords: ['mailgun'],
  confidence: 'high',
  pattern:
    /(?<![A-Za-z0-9-])(?:key-[0-9a-f]{32}|[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})(?![A-Za-z0-9-])/g,
});
