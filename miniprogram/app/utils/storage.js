// @ts-check
/** Tokens, the logged-in user and the pending referral code, kept in wx storage. */

const TOKENS = 'zq_tokens'
const USER = 'zq_user'
const REFERRAL = 'zq_referral'
const MY_CODE = 'zq_my_code'

/** @returns {{access: string, refresh: string} | null} */
function getTokens() {
  const value = wx.getStorageSync(TOKENS)
  return value && value.access ? value : null
}

/** @param {{access: string, refresh?: string}} tokens */
function setTokens(tokens) {
  const old = getTokens()
  wx.setStorageSync(TOKENS, {access: tokens.access, refresh: tokens.refresh || (old ? old.refresh : '')})
}

function clearTokens() {
  wx.removeStorageSync(TOKENS)
  wx.removeStorageSync(USER)
  wx.removeStorageSync(MY_CODE)
}

/** @returns {{id: number, nickname: string, member_no: string | null} | null} */
function getUser() {
  return wx.getStorageSync(USER) || null
}

/** @param {{id: number, nickname: string, member_no: string | null}} user */
function setUser(user) {
  wx.setStorageSync(USER, user)
}

/** @returns {string} */
function getReferral() {
  return wx.getStorageSync(REFERRAL) || ''
}

/** @param {string} code */
function setReferral(code) {
  if (code) wx.setStorageSync(REFERRAL, code)
}

/** The member's own referral code (from GET /me/), which every share carries. */
function getMyCode() {
  return wx.getStorageSync(MY_CODE) || ''
}

/** @param {string} code */
function setMyCode(code) {
  if (code) wx.setStorageSync(MY_CODE, code)
}

module.exports = {getTokens, setTokens, clearTokens, getUser, setUser, getReferral, setReferral, getMyCode, setMyCode}
