// @ts-check
/**
 * 活动详情 (GET /api/v1/events/{id}/): time, place, seats, the price or 会员免费, and what the member can
 * do now, as the server's access.state says:
 * - free_for_member / free → 免费报名 (POST register: a ticket at once, or a waitlist place when full);
 * - buy (or membership_expired with a price) → POST register holds a seat, then the usual checkout
 *   (utils/pay.js); pending_payment → 去支付 for the held seat;
 * - registered → 查看电子票 and 取消报名 (a paid ticket is refunded inside the refund window);
 * - waitlisted → 取消候补; tier_required → 开通会员; ended / closed / quota_used → the server's message.
 */
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const storage = require('../../utils/storage')
const {yuan, dateTime} = require('../../utils/format')
const {sharePath} = require('../../utils/referral')

const FREE_STATES = ['free_for_member', 'free']

Component({
  data: {
    loading: true,
    error: '',
    id: 0,
    title: '',
    summary: '',
    description: '',
    when: '',
    where: '',
    address: '',
    seats: '',
    price: '',
    tiers: '',
    state: '',
    stateMessage: '',
    full: false,
    quota: '',
    registration: /** @type {null | {status: string, paid: boolean}} */ (null),
    notice: '',
    busy: false,
  },
  methods: {
    /** @param {{id?: string}} query */
    onLoad(query) {
      this.setData({id: Number((query && query.id) || 0)})
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const e = await api.get(`/api/v1/events/${this.data.id}/`)
        const access = e.access
        const tiers = (e.included_in_tiers || []).join('/')
        const amount = e.price ? e.price.amount_fen : e.price_fen
        this.setData({
          loading: false,
          title: e.title,
          summary: e.summary || '',
          description: e.description || '',
          when: `${dateTime(e.starts_at)} – ${dateTime(e.ends_at).slice(11)}`,
          where: [e.city, e.venue].filter(Boolean).join(' · '),
          address: e.address || '',
          seats: e.seats_left > 0 ? `剩余 ${e.seats_left} / ${e.capacity} 席` : `已满（共 ${e.capacity} 席），可报名候补`,
          price: FREE_STATES.includes(access.state) || !amount ? '免费' : yuan(amount),
          tiers: tiers ? `${tiers} 会员免费报名` : '',
          state: access.state,
          stateMessage: access.message || '',
          full: !!access.full,
          quota: access.quota_limit ? `本会员年度已用 ${access.quota_used} / ${access.quota_limit} 次免费名额` : '',
          registration: e.registration ? {status: e.registration.status, paid: !!e.registration.order_no} : null,
        })
      } catch (error) {
        this.setData({loading: false, error: error.status === 404 ? '活动不存在或已下线' : error.message || '加载失败'})
      }
    },
    /** 免费报名 / 购买门票 / 报名候补. */
    async register() {
      if (this.data.busy) return null
      this.setData({busy: true, notice: ''})
      try {
        let registration = null
        if (this.data.state !== 'pending_payment') {
          registration = await api.post(`/api/v1/events/${this.data.id}/register/`, {})
        }
        if (registration && registration.status === 'waitlisted') {
          this.setData({busy: false, notice: '名额已满，已为你报名候补，有空位时会通知你'})
          await this.load()
          return {state: 'waitlisted'}
        }
        if (registration && registration.status === 'confirmed') {
          this.setData({busy: false, notice: '报名成功，电子票已放入「我的 · 电子票」'})
          await this.load()
          return {state: 'registered'}
        }
        const result = await pay.checkout('event', this.data.id)
        this.setData({busy: false, notice: result.state === 'paid' ? '支付成功，电子票已放入「我的 · 电子票」' : result.message || ''})
        await this.load()
        return result
      } catch (error) {
        this.setData({busy: false, notice: error.message || '报名失败'})
        await this.load()
        return null
      }
    },
    /** 取消报名 / 取消候补, after the member confirms. */
    async cancel() {
      if (this.data.busy) return null
      const paid = !!(this.data.registration && this.data.registration.paid && this.data.registration.status === 'confirmed')
      const confirmed = await new Promise(resolve =>
        wx.showModal({
          title: this.data.state === 'waitlisted' ? '取消候补' : '取消报名',
          content: paid ? '取消后门票作废，票款将按退款规则原路退回。确定取消？' : '取消后名额将释放给其他人。确定取消？',
          confirmText: '确定取消',
          cancelText: '再想想',
          success: res => resolve(!!res.confirm),
          fail: () => resolve(false),
        }),
      )
      if (!confirmed) return null
      this.setData({busy: true, notice: ''})
      try {
        const registration = await api.post(`/api/v1/events/${this.data.id}/cancel/`, {})
        const notice = registration.status === 'cancelled' ? '已取消报名' : '已申请退款，退款完成后门票作废'
        this.setData({busy: false, notice})
        await this.load()
        return registration
      } catch (error) {
        this.setData({busy: false, notice: error.message || '取消失败'})
        return null
      }
    },
    ticket() {
      wx.navigateTo({url: `/pkg-learning/ticket/index?event=${this.data.id}`})
    },
    join() {
      wx.switchTab({url: '/pages/tiers/index'})
    },
    onShareAppMessage() {
      return {title: this.data.title, path: sharePath('/pkg-learning/event/index', storage.getMyCode(), {id: this.data.id})}
    },
  },
})
