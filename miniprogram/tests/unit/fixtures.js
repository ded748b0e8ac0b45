/** Server answers shaped as the OpenAPI schema says (see contract/fields.json). */
const ok = data => ({statusCode: 200, data})

const tiers = [
  {code: 'VIP', name: 'VIP 会员', price_fen: 360000, duration_days: 365, benefits: ['全部 VIP 课程', '会员圈子'], rank: 1, single_purchase_discount_bp: 0},
  {code: 'KA', name: 'KA 会员', price_fen: 12000000, duration_days: 365, benefits: ['VIP 全部权益', '线下活动'], rank: 2, single_purchase_discount_bp: 0},
]

const visitorMe = {id: 1, nickname: '小明', member_no: null, membership: null, referral_code: 'ABCD2345', phone: '', avatar_url: '', points_balance: 0}
const memberMe = {
  ...visitorMe,
  member_no: 'ZQ000123',
  membership: {tier: 'VIP', starts_at: '2026-01-01T10:00:00+08:00', ends_at: '2027-01-01T10:00:00+08:00'},
  points_balance: 120,
}

const page = results => ({count: results.length, next: null, previous: null, results})

const courses = page([
  {id: 7, title: '私域运营实战', price_fen: 19900, included_in_tiers: ['VIP'], summary: '从 0 到 1', cover_url: '', lesson_count: 3, preview_count: 1, unlocked: true},
])

module.exports = {ok, tiers, visitorMe, memberMe, page, courses}
