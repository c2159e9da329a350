/*
 * A local fake of Stripe.js (https://js.stripe.com) for the browser tests, where the real one cannot be reached.
 * It implements only what Hearth's SPA uses, the way Stripe.js does it:
 *   Stripe(publishableKey) -> elements().create('card') -> mount(node) / on('change') / focus() / destroy();
 *   createPaymentMethod({ type: 'card', card }) -> { paymentMethod } | { error };
 *   handleNextAction({ clientSecret }) -> { paymentIntent } | { error }.
 * The card form is an iframe from js.stripe.com (card-frame.html) that sends what is typed to this page by
 * postMessage, as Stripe's own frames do; the page never reads the card from the DOM. API calls go to
 * https://api.stripe.com with the publishable key as the `key` form parameter (no Authorization header, so no CORS
 * preflight); the spec routes them to the local fake Stripe API (tests/integration/payments/fake_stripe.py).
 * handleNextAction reads the PaymentIntent with its client secret and, when it is `requires_action`, completes the
 * test bank's 3-D Secure challenge at once (POST /v1/payment_intents/{id}/authenticate on the fake).
 * Every handleNextAction call is recorded in window.__fakeStripe.nextActions for the spec to check.
 */
(function () {
  'use strict';
  var API = 'https://api.stripe.com';
  var FRAME = 'https://js.stripe.com/v3/fake-card-frame.html';
  var record = { nextActions: [] };
  window.__fakeStripe = record;

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    return sum % 10 === 0;
  }

  async function call(method, path, params) {
    var body = new URLSearchParams(params);
    var response =
      method === 'GET'
        ? await fetch(API + path + '?' + body.toString())
        : await fetch(API + path, { method: 'POST', body: body }); // form-encoded: a simple request
    var json = await response.json();
    return response.ok ? { ok: json } : { error: json.error };
  }

  function cardElement() {
    var frame = null;
    var number = '';
    var listeners = [];
    function onMessage(event) {
      if (frame === null || event.source !== frame.contentWindow || !event.data || event.data.fakeStripe !== 'card') {
        return;
      }
      number = String(event.data.number || '').replace(/\s+/g, '');
      var complete = /^\d{16}$/.test(number) && luhn(number);
      var error =
        /^\d{16}$/.test(number) && !complete
          ? { type: 'validation_error', code: 'invalid_number', message: 'Your card number is invalid.' }
          : /[^\d]/.test(number)
            ? { type: 'validation_error', code: 'invalid_number', message: 'Your card number is invalid.' }
            : undefined;
      var change = { elementType: 'card', empty: number === '', complete: complete, error: error, brand: 'visa', value: { postalCode: '' } };
      listeners.forEach(function (listener) {
        listener(change);
      });
    }
    var element = {
      mount: function (target) {
        var node = typeof target === 'string' ? document.querySelector(target) : target;
        frame = document.createElement('iframe');
        frame.src = FRAME;
        frame.title = 'Secure card payment input frame';
        frame.style.border = '0';
        frame.style.width = '100%';
        frame.style.height = '2.5rem';
        node.appendChild(frame);
        window.addEventListener('message', onMessage);
      },
      on: function (event, listener) {
        if (event === 'change') listeners.push(listener);
        return element;
      },
      focus: function () {
        if (frame) frame.contentWindow.postMessage({ fakeStripe: 'focus' }, '*');
      },
      destroy: function () {
        window.removeEventListener('message', onMessage);
        if (frame) frame.remove();
        frame = null;
        listeners = [];
      },
      _number: function () {
        return number;
      },
    };
    return element;
  }

  function Stripe(key) {
    if (typeof key !== 'string' || key.indexOf('pk_') !== 0) {
      throw new Error('IntegrationError: Stripe() takes a publishable key (pk_...), never a secret key.');
    }
    return {
      elements: function () {
        return {
          create: function (type) {
            if (type !== 'card') throw new Error('IntegrationError: this fake makes card Elements only.');
            return cardElement();
          },
        };
      },
      createPaymentMethod: async function (data) {
        if (!data || data.type !== 'card' || !data.card || typeof data.card._number !== 'function') {
          throw new Error('IntegrationError: createPaymentMethod needs { type: "card", card: <card Element> }.');
        }
        var made = await call('POST', '/v1/payment_methods', {
          key: key,
          type: 'card',
          'card[number]': data.card._number(),
          'card[exp_month]': '12',
          'card[exp_year]': '2034',
          'card[cvc]': '123',
        });
        return made.error ? { error: made.error } : { paymentMethod: made.ok };
      },
      handleNextAction: async function (options) {
        var secret = options && options.clientSecret;
        record.nextActions.push({ clientSecret: secret });
        var id = String(secret).split('_secret_')[0];
        var auth = { key: key, client_secret: secret };
        var read = await call('GET', '/v1/payment_intents/' + id, auth);
        if (read.error) return { error: read.error };
        if (read.ok.status !== 'requires_action') {
          return {
            error: {
              type: 'invalid_request_error',
              code: 'payment_intent_unexpected_state',
              message: 'This PaymentIntent is ' + read.ok.status + ': it has no next action to handle.',
            },
          };
        }
        var done = await call('POST', '/v1/payment_intents/' + id + '/authenticate', auth);
        return done.error ? { error: done.error } : { paymentIntent: done.ok };
      },
    };
  }

  window.Stripe = Stripe;
})();
