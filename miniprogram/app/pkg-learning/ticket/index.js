// @ts-check
/**
 * 电子票 of one event: the ticket code and its QR image for the staff at the door. The QR PNG
 * (GET /api/v1/events/tickets/{code}/qr.png, `ticket_qr_api_url`) needs the Bearer token, which an
 * <image src> cannot send, so it is fetched with wx.downloadFile (api.download) and shown from the
 * temp file. Only a `valid` ticket shows a QR: a cancelled, refunded, checked-in or no-longer-covered
 * one says so instead.
 */
const api = require('../../utils/api')
const {dateTime} = require('../../utils/format')
const {saveImage, SAVE_MESSAGES} = require('../../utils/album')

/** What a ticket without a QR means for the member. */
const HINTS = {
  checked_in: '已核销入场，欢迎参加',
  ended: '活动已结束',
  pending_payment: '完成支付后生成电子票',
  waitlisted: '候补成功后生成电子票，届时会通知你',
}

Component({
  data: {
    loading: true,
    error: '',
    eventId: 0,
    title: '',
    when: '',
    where: '',
    state: '',
    stateText: '',
    valid: false,
    hint: '',
    code: '',
    qr: '',
    qrError: '',
    notice: '',
  },
  methods: {
    /** @param {{event?: string}} query */
    onLoad(query) {
      this.setData({eventId: Number((query && query.event) || 0)})
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: '', qr: '', qrError: ''})
      try {
        const tickets = await api.get('/api/v1/events/tickets/?with_cancelled=true')
        const ticket = tickets.find((/** @type {any} */ t) => t.event.id === this.data.eventId)
        if (!ticket) {
          this.setData({loading: false, error: '没有找到这张电子票'})
          return
        }
        const valid = ticket.state === 'valid' && !!ticket.ticket_code
        this.setData({
          loading: false,
          title: ticket.event.title,
          when: `${dateTime(ticket.event.starts_at)} – ${dateTime(ticket.event.ends_at).slice(11)}`,
          where: [ticket.event.city, ticket.event.venue].filter(Boolean).join(' · '),
          state: ticket.state,
          stateText: ticket.state_text,
          valid,
          hint: /** @type {Record<string, string>} */ (HINTS)[ticket.state] || '此票不能用于入场',
          code: valid ? ticket.ticket_code : '',
        })
        if (valid) await this.loadQr(ticket.ticket_qr_api_url || `/api/v1/events/tickets/${ticket.ticket_code}/qr.png`)
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {string} path */
    async loadQr(path) {
      try {
        const file = await api.download(path)
        this.setData({qr: file})
      } catch (error) {
        this.setData({qrError: `二维码加载失败：${error.message}。入场时可出示票号`})
      }
    },
    async save() {
      if (!this.data.qr) return null
      const result = await saveImage(this.data.qr)
      this.setData({notice: SAVE_MESSAGES[result]})
      return result
    },
    openEvent() {
      wx.navigateTo({url: `/pkg-learning/event/index?id=${this.data.eventId}`})
    },
  },
})
