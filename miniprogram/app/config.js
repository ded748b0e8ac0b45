// @ts-check
/**
 * The one file a developer edits to point the mini-program at a server.
 * (The appid lives only in ../project.config.json, where WeChat DevTools reads it; the client never needs it:
 * wx.requestPayment's appId comes from the server with each order.)
 */
module.exports = {
  /** API server, no trailing slash. `make demo` listens on http://127.0.0.1:8000 (tick 「不校验合法域名」). */
  baseUrl: 'http://127.0.0.1:8000',
  /**
   * Development only: log in with the code `sandbox:<sandboxUser>` instead of wx.login's code. Works
   * against servers with WECHAT_SANDBOX_LOGIN on (`make demo`); production servers refuse it.
   */
  sandboxLogin: false,
  sandboxUser: 'devtools',
  /**
   * Payment channel of POST /api/v1/orders/ (API.md row 4). 'sandbox' against `make demo`: a modal stands
   * in for WeChat Pay and the server's sandbox pays (never available in production).
   */
  payChannel: 'wechat_miniprogram',
  /** After wx.requestPayment succeeds: how often and how many times to read the order until it is paid. */
  payPollMs: 1000,
  payPollTimes: 10,
  /** 429: longest wait before the single retry (seconds). */
  maxRetryAfterSeconds: 5,
}
