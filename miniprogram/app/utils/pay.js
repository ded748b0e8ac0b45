// @ts-check
/**
 * Checkout: POST /api/v1/orders/ (API.md row 4) → wx.requestPayment with the returned parameters →
 * read the order (row 5) until the server has the payment notification.
 *
 * Results (never throws for the member's own choices):
 * - {state: 'paid', order_no}
 * - {state: 'pending', order_no}    paid in WeChat, notification not here yet: the order page will show it
 * - {state: 'cancelled', order_no}  `requestPayment:fail cancel`: the order stays pending, nothing charged
 * - {state: 'ios_unsupported'}     iOS virtual goods: WeChat's rules forbid paying here, and forbid
 *                                   telling the member where else to pay — only IOS_MESSAGE is shown
 * - {state: 'failed', message, order_no?}
 */
const config = require('../config')
const api = require('./api')
const storage = require('./storage')

const IOS_MESSAGE = '根据相关规定，iOS 设备暂不支持购买此项服务'

function platform() {
  try {
    const info = wx.getDeviceInfo ? wx.getDeviceInfo() : wx.getSystemInfoSync()
    const value = String(info.platform || '').toLowerCase()
    return ['ios', 'android', 'windows', 'mac', 'devtools', 'ohos'].includes(value) ? value : ''
  } catch (e) {
    return ''
  }
}

/** @param {Record<string, string>} params @returns {Promise<{ok: boolean, errMsg?: string}>} */
function requestPayment(params) {
  return new Promise(resolve => {
    wx.requestPayment({
      timeStamp: params.timeStamp,
      nonceStr: params.nonceStr,
      package: params.package,
      signType: /** @type {any} */ (params.signType),
      paySign: params.paySign,
      success: () => resolve({ok: true}),
      fail: err => resolve({ok: false, errMsg: (err && err.errMsg) || 'requestPayment:fail'}),
    })
  })
}

/**
 * Development (`payChannel: 'sandbox'` against `make demo`): WeChat Pay is not there, so the member
 * confirms in a modal and the server's sandbox pays (POST /api/v1/orders/{no}/sandbox-pay/).
 * @param {{order_no: string, amount_fen: number}} order
 * @returns {Promise<{ok: boolean, errMsg?: string}>}
 */
function sandboxPayment(order) {
  return new Promise(resolve => {
    wx.showModal({
      title: '模拟支付（开发环境）',
      content: `支付 ¥${(order.amount_fen / 100).toFixed(2)}？这是沙箱，不会扣款。`,
      confirmText: '确认支付',
      success: res => {
        if (!res.confirm) return resolve({ok: false, errMsg: 'requestPayment:fail cancel'})
        api.post(`/api/v1/orders/${order.order_no}/sandbox-pay/`, {}).then(
          () => resolve({ok: true}),
          () => resolve({ok: false, errMsg: 'requestPayment:fail sandbox'}),
        )
        return undefined
      },
      fail: () => resolve({ok: false, errMsg: 'requestPayment:fail cancel'}),
    })
  })
}

/** @param {number} ms */
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/**
 * @param {string} itemType membership | course | circle | event | camp
 * @param {string | number} itemId
 */
async function checkout(itemType, itemId) {
  let order
  try {
    order = await api.post('/api/v1/orders/', {
      item_type: itemType,
      item_id: String(itemId),
      channel: config.payChannel,
      referral_code: storage.getReferral(),
      platform: platform(),
    })
  } catch (error) {
    if (error && error.code === 'ios_virtual_payment_unsupported') return {state: 'ios_unsupported', message: IOS_MESSAGE}
    return {state: 'failed', message: error.message || '下单失败'}
  }
  if (order.status === 'paid') return {state: 'paid', order_no: order.order_no}
  const sandbox = config.payChannel === 'sandbox' && order.payment && order.payment.cashier_url
  if (!sandbox && (!order.payment || !order.payment.package)) {
    return {state: 'failed', order_no: order.order_no, message: '该支付方式不能在小程序中使用'}
  }
  const result = sandbox ? await sandboxPayment(order) : await requestPayment(order.payment)
  if (!result.ok) {
    if (/cancel/.test(result.errMsg || '')) return {state: 'cancelled', order_no: order.order_no, message: '已取消支付，订单保留为待支付'}
    return {state: 'failed', order_no: order.order_no, message: '支付未完成，请稍后在订单中查看'}
  }
  for (let i = 0; i < config.payPollTimes; i++) {
    const current = await api.get(`/api/v1/orders/${order.order_no}/`)
    if (current.status === 'paid') return {state: 'paid', order_no: order.order_no}
    await sleep(config.payPollMs)
  }
  return {state: 'pending', order_no: order.order_no, message: '支付结果确认中，请稍后在订单中查看'}
}

module.exports = {checkout, IOS_MESSAGE, platform}
