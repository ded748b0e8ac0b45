// @ts-check
const api = require('./utils/api')
const brand = require('./utils/brand')
const storage = require('./utils/storage')
const {referralFromQuery} = require('./utils/referral')

App({
  globalData: {},
  /**
   * A share path (`?ref=`) or a 小程序码 (`scene=r%3D…`) brings the referral code; login binds it.
   * The creator's brand comes from storage; it is fetched here only the first time (afterwards the
   * X-Brand-Version header of any answer says when it changed).
   */
  onLaunch(options) {
    storage.setReferral(referralFromQuery(/** @type {any} */ (options && options.query)))
    brand.ensure()
    api.ensureLogin().catch(() => {
      /* each page shows its own error when it loads */
    })
  },
  onShow(options) {
    storage.setReferral(referralFromQuery(/** @type {any} */ (options && options.query)))
  },
})
