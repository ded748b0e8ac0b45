// @ts-check
const api = require('./utils/api')
const storage = require('./utils/storage')
const {referralFromQuery} = require('./utils/referral')

App({
  globalData: {},
  /** A share path (`?ref=`) or a 小程序码 (`scene=r%3D…`) brings the referral code; login binds it. */
  onLaunch(options) {
    storage.setReferral(referralFromQuery(/** @type {any} */ (options && options.query)))
    api.ensureLogin().catch(() => {
      /* each page shows its own error when it loads */
    })
  },
  onShow(options) {
    storage.setReferral(referralFromQuery(/** @type {any} */ (options && options.query)))
  },
})
