// @ts-check
/**
 * 电子票 (我的 → 电子票): GET /api/v1/events/tickets/?with_cancelled=true. Events to come first (soonest
 * first), then events that are over, then cancelled and refunded registrations — each with the server's
 * state; only `valid` is shown as a ticket that gets the member in.
 */
const api = require('../../utils/api')
const {dateTime} = require('../../utils/format')

const VOID = ['cancelled', 'refunded']

/** @param {any} t */
function row(t) {
  return {
    eventId: t.event.id,
    title: t.event.title,
    when: dateTime(t.event.starts_at),
    where: [t.event.city, t.event.venue].filter(Boolean).join(' · '),
    state: t.state,
    stateText: t.state_text,
    valid: t.state === 'valid',
    code: t.state === 'valid' ? t.ticket_code || '' : '',
  }
}

Component({
  data: {
    loading: true,
    error: '',
    upcoming: /** @type {any[]} */ ([]),
    past: /** @type {any[]} */ ([]),
    voided: /** @type {any[]} */ ([]),
  },
  methods: {
    onLoad() {
      return this.load()
    },
    onShow() {
      if (!this.data.loading) this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const tickets = await api.get('/api/v1/events/tickets/?with_cancelled=true')
        const now = Date.now()
        const rows = tickets.map((/** @type {any} */ t) => ({...row(t), over: Date.parse(t.event.ends_at) <= now}))
        this.setData({
          loading: false,
          upcoming: rows.filter((/** @type {any} */ r) => !VOID.includes(r.state) && !r.over && r.state !== 'ended'),
          past: rows.filter((/** @type {any} */ r) => !VOID.includes(r.state) && (r.over || r.state === 'ended')),
          voided: rows.filter((/** @type {any} */ r) => VOID.includes(r.state)),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    open(event) {
      wx.navigateTo({url: `/pkg-learning/ticket/index?event=${event.currentTarget.dataset.event}`})
    },
    events() {
      wx.navigateTo({url: '/pkg-learning/events/index'})
    },
  },
})
