// @ts-check
/**
 * 订单详情 (API.md row 5) with the self-service refund: GET …/refund/ previews it (amount, what the
 * refund takes back, or why not), POST …/refund/ asks for it (row 6) after the member confirms.
 * An unpaid order can be paid again or cancelled (POST …/cancel/: closed at WeChat first), e.g. when a
 * membership refund asks that another membership order awaiting payment be paid or cancelled first.
 */
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const {yuan, orderStatus} = require('../../utils/format')

Component({
  data: {
    loading: true,
    error: '',
    no: '',
    status: '',
    statusText: '',
    amount: '',
    paidAt: '',
    itemType: '',
    itemId: '',
    refund: /** @type {null | {refundable: boolean, amount: string, message: string, losses: string[]}} */ (null),
    refunding: false,
    notice: '',
  },
  methods: {
    /** @param {{no?: string}} query */
    onLoad(query) {
      this.setData({no: (query && query.no) || ''})
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const order = await api.get(`/api/v1/orders/${this.data.no}/`)
        /** @type {Record<string, any>} */
        const next = {
          loading: false,
          status: order.status,
          statusText: orderStatus(order.status),
          amount: yuan(order.amount_fen),
          paidAt: order.paid_at ? String(order.paid_at).replace('T', ' ').slice(0, 16) : '',
          itemType: order.item_type,
          itemId: order.item_id,
          refund: null,
        }
        if (order.status === 'paid') {
          const preview = await api.get(`/api/v1/orders/${this.data.no}/refund/`)
          next.refund = {
            refundable: preview.refundable,
            amount: yuan(preview.amount_fen),
            message: preview.message,
            losses: preview.losses || [],
          }
        }
        this.setData(next)
      } catch (error) {
        this.setData({loading: false, error: error.status === 404 ? '订单不存在' : error.message || '加载失败'})
      }
    },
    askRefund() {
      const refund = this.data.refund
      if (!refund || !refund.refundable || this.data.refunding) return
      const losses = refund.losses.length ? `\n退款后将失去：${refund.losses.join('、')}` : ''
      wx.showModal({
        title: '申请退款',
        content: `将退还 ${refund.amount}。${losses}`,
        confirmText: '确认退款',
        confirmColor: '#FA5151',
        success: res => {
          if (res.confirm) this.refund()
        },
      })
    },
    async refund() {
      this.setData({refunding: true, notice: ''})
      try {
        const result = await api.post(`/api/v1/orders/${this.data.no}/refund/`, {reason: '小程序自助退款'})
        this.setData({notice: result.status === 'refunded' ? '已退款' : '退款申请已提交，款项将原路退回'})
      } catch (error) {
        this.setData({notice: error.message || '退款失败'})
      }
      this.setData({refunding: false})
      return this.load()
    },
    askCancel() {
      if (this.data.status !== 'pending' || this.data.refunding) return
      wx.showModal({
        title: '取消订单',
        content: '取消后该订单不能再支付',
        confirmText: '取消订单',
        cancelText: '再想想',
        success: res => {
          if (res.confirm) this.cancel()
        },
      })
    },
    async cancel() {
      this.setData({refunding: true, notice: ''})
      try {
        const result = await api.post(`/api/v1/orders/${this.data.no}/cancel/`, {})
        this.setData({notice: result.status === 'paid' ? '该订单已支付成功' : '订单已取消'})
      } catch (error) {
        this.setData({notice: error.message || '取消失败'})
      }
      this.setData({refunding: false})
      return this.load()
    },
    async payAgain() {
      const result = await pay.checkout(this.data.itemType, this.data.itemId)
      this.setData({notice: result.state === 'paid' ? '支付成功' : result.message || ''})
      if (result.order_no && result.order_no !== this.data.no) {
        wx.redirectTo({url: `/pkg-orders/detail/index?no=${result.order_no}`})
      }
      return result
    },
  },
})
