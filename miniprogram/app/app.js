// @ts-check
const api = require('./utils/api')
const brand = require('./utils/brand')
const storage = require('./utils/storage')
const {referralFromQuery} = require('./utils/referral')

App({
  globalData: {},
  /**
   * A share path (`?ref=`) or a 小程序码 (`scene=r%3D…`) brings the referral code; login binds it.
   * The creator's brand comes from storage (afterwards the X-Brand-Version header of any answer says
   * when it changed). Nothing stored yet: fetched now, unless the app opens on the home screen, which
   * fetches it after its own calls (its 3-call budget).
   */
  onLaunch(options) {
    storage.setReferral(referralFromQuery(/** @type {any} */ (options && options.query)))
    if (!options || String(options.path || '').replace(/^\//, '') !== 'pages/home/index') brand.ensure()
    api.ensureLogin().catch(() => {
      /* each page shows its own error when it loads */
    })
  },
  onShow(options) {
    storage.setReferral(referralFromQuery(/** @type {any} */ (options && options.query)))
  },
})
