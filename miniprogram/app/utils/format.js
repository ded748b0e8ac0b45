// @ts-check
/** Display helpers: money in fen → yuan, ISO times → 日期. */

/** @param {number | null | undefined} fen */
function yuan(fen) {
  const value = Number(fen || 0) / 100
  return Number.isInteger(value) ? `¥${value}` : `¥${value.toFixed(2)}`
}

/** @param {string | null | undefined} iso */
function date(iso) {
  if (!iso) return ''
  return String(iso).slice(0, 10)
}

const ORDER_STATUS = {
  pending: '待支付',
  paid: '已支付',
  closed: '已关闭',
  refunding: '退款中',
  refunded: '已退款',
  partially_refunded: '部分退款',
}

/** @param {string} status */
function orderStatus(status) {
  return /** @type {Record<string, string>} */ (ORDER_STATUS)[status] || status
}

module.exports = {yuan, date, orderStatus}
