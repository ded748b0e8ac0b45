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

/** '2026-12-27T13:30:00+08:00' → '2026-12-27 13:30' (the server's local time, as sent). @param {string | null | undefined} iso */
function dateTime(iso) {
  if (!iso) return ''
  return String(iso).slice(0, 16).replace('T', ' ')
}

/** 75 → '01:15'. @param {number} seconds */
function clock(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0))
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0')
  return s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}` : `${pad(Math.floor(s / 60))}:${pad(s % 60)}`
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

module.exports = {yuan, date, dateTime, clock, orderStatus}
