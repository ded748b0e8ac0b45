// @ts-check
/** 全部订单: GET /api/v1/orders/, page by page. */
const api = require('../../utils/api')
const {yuan, date, orderStatus} = require('../../utils/format')

Component({
  data: {loading: true, error: '', orders: /** @type {any[]} */ ([]), next: ''},
  methods: {
    onLoad() {
      return this.load('/api/v1/orders/')
    },
    onReachBottom() {
      if (this.data.next) return this.load(this.data.next)
      return null
    },
    /** @param {string} url */
    async load(url) {
      this.setData({loading: true, error: ''})
      try {
        const path = url.replace(/^https?:\/\/[^/]+/, '')
        const page = await api.get(path)
        const rows = page.results.map((/** @type {any} */ o) => ({
          no: o.order_no,
          title: o.title,
          amount: yuan(o.amount_fen),
          status: orderStatus(o.status),
          created: date(o.created_at),
        }))
        this.setData({loading: false, orders: this.data.orders.concat(rows), next: page.next || ''})
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    open(event) {
      wx.navigateTo({url: `/pkg-orders/detail/index?no=${event.currentTarget.dataset.no}`})
    },
  },
})
