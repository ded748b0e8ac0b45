// @ts-check
/** 线下活动: upcoming offline events (GET /api/v1/events/), with time, place, seats and price. */
const api = require('../../utils/api')
const {yuan, dateTime} = require('../../utils/format')

/** @param {any} e */
function row(e) {
  const tiers = (e.included_in_tiers || []).join('/')
  return {
    id: e.id,
    title: e.title,
    when: dateTime(e.starts_at),
    where: [e.city, e.venue].filter(Boolean).join(' · '),
    seats: e.seats_left > 0 ? `剩余 ${e.seats_left} 席` : '已满，可候补',
    full: e.seats_left <= 0,
    price: e.price_fen ? yuan(e.price_fen) : '免费',
    tiers: tiers ? `${tiers} 会员免费` : '',
  }
}

Component({
  data: {loading: true, error: '', events: /** @type {any[]} */ ([]), next: ''},
  methods: {
    onLoad() {
      return this.load()
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const page = await api.get('/api/v1/events/')
        this.setData({loading: false, events: page.results.map(row), next: page.next || ''})
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    async more() {
      if (!this.data.next) return
      try {
        const path = this.data.next.replace(/^https?:\/\/[^/]+/, '')
        const page = await api.get(path)
        this.setData({events: this.data.events.concat(page.results.map(row)), next: page.next || ''})
      } catch (error) {
        api.showError(error)
      }
    },
    onReachBottom() {
      return this.more()
    },
    /** @param {any} event */
    open(event) {
      wx.navigateTo({url: `/pkg-learning/event/index?id=${event.currentTarget.dataset.id}`})
    },
    tickets() {
      wx.navigateTo({url: '/pkg-learning/tickets/index'})
    },
  },
})
