// @ts-check
/** 会员: the tiers (API.md row 3) and checkout (rows 4–5). */
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const {yuan} = require('../../utils/format')

Component({
  data: {
    loading: true,
    error: '',
    tiers: /** @type {any[]} */ ([]),
    buying: '',
    notice: '',
    noticeKind: '',
  },
  methods: {
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const tiers = await api.get('/api/v1/membership/tiers/')
        this.setData({
          loading: false,
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
    /** @param {any} event */
    buy(event) {
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
