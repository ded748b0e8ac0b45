// @ts-check
/** 会员: the tiers (API.md row 3) and checkout (rows 4–5). */
const api = require('../../utils/api')
const brand = require('../../utils/brand')
const pay = require('../../utils/pay')
const subscribe = require('../../utils/subscribe')
const {yuan} = require('../../utils/format')

Component({
  data: {
    loading: true,
    error: '',
    tiers: /** @type {any[]} */ ([]),
    buying: '',
    subscribeIds: /** @type {string[]} */ ([]),
    notice: '',
    noticeKind: '',
  },
  methods: {
    onShow() {
      brand.apply({title: '开通会员'})
    },
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const [tiers, subscribeIds] = await Promise.all([
          api.get('/api/v1/membership/tiers/'),
          subscribe.templateIds(['renewal_reminder']),
        ])
        this.setData({
          loading: false,
          subscribeIds,
          tiers: tiers.map((/** @type {any} */ t) => ({
            code: t.code,
            name: t.name,
            price: yuan(t.price_fen),
            days: t.duration_days,
            benefits: t.benefits || [],
          })),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** The tap: ask for the renewal reminder opt-in first (WeChat needs the tap for it), then pay. */
    async buy(/** @type {any} */ event) {
      await subscribe.ask(this.data.subscribeIds)
      return this.buyTier(event.currentTarget.dataset.code)
    },
    /** @param {string} code */
    async buyTier(code) {
      if (this.data.buying) return null
      this.setData({buying: code, notice: '', noticeKind: ''})
      const result = await pay.checkout('membership', code)
      /** @type {Record<string, string>} */
      const shown = {
        paid: '开通成功，欢迎加入！',
        pending: result.message || '',
        cancelled: result.message || '',
        ios_unsupported: pay.IOS_MESSAGE,
        failed: result.message || '支付失败',
      }
      this.setData({buying: '', notice: shown[result.state], noticeKind: result.state})
      if (result.state === 'paid') wx.showToast({title: '开通成功', icon: 'success'})
      return result
    },
  },
})
