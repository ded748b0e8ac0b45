// @ts-check
/** 我的: membership, member number, points, tickets, camps and certificates, referral code, and the latest orders. */
const api = require('../../utils/api')
const brand = require('../../utils/brand')
const {yuan, date, orderStatus} = require('../../utils/format')
const {sharePath} = require('../../utils/referral')
const storage = require('../../utils/storage')

Component({
  data: {
    loading: true,
    error: '',
    nickname: '',
    memberNo: '',
    membership: /** @type {null | {tier: string, endsAt: string}} */ (null),
    points: 0,
    referralCode: '',
    orders: /** @type {any[]} */ ([]),
  },
  methods: {
    onLoad() {
      return this.load()
    },
    onShow() {
      brand.apply({title: '我的'})
      if (!this.data.loading) this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const [me, orders] = await Promise.all([api.get('/api/v1/me/'), api.get('/api/v1/orders/')])
        storage.setMyCode(me.referral_code)
        this.setData({
          loading: false,
          nickname: me.nickname,
          memberNo: me.member_no || '',
          membership: me.membership ? {tier: me.membership.tier, endsAt: date(me.membership.ends_at)} : null,
          points: me.points_balance || 0,
          referralCode: me.referral_code || '',
          orders: orders.results.map((/** @type {any} */ o) => ({
            no: o.order_no,
            title: o.title,
            amount: yuan(o.amount_fen),
            status: orderStatus(o.status),
            created: date(o.created_at),
          })),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    openOrder(event) {
      wx.navigateTo({url: `/pkg-orders/detail/index?no=${event.currentTarget.dataset.no}`})
    },
    openCircles() {
      wx.navigateTo({url: '/pkg-community/mine/index'})
    },
    openNotifications() {
      wx.navigateTo({url: '/pkg-orders/notifications/index'})
    },
    openTickets() {
      wx.navigateTo({url: '/pkg-learning/tickets/index'})
    },
    openCamps() {
      wx.navigateTo({url: '/pkg-learning/mycamps/index'})
    },
    openPoints() {
      wx.navigateTo({url: '/pkg-orders/points/index'})
    },
    promoter() {
      wx.navigateTo({url: '/pkg-promoter/index/index'})
    },
    allOrders() {
      wx.navigateTo({url: '/pkg-orders/list/index'})
    },
    join() {
      wx.switchTab({url: '/pages/tiers/index'})
    },
    logout() {
      api.logout()
      wx.reLaunch({url: '/pages/home/index'})
    },
    onShareAppMessage() {
      return {title: `邀请你加入${brand.get().site_name}`, path: sharePath('/pages/home/index', this.data.referralCode)}
    },
  },
})
