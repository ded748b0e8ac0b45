// @ts-check
/**
 * 首页: a visitor (no membership) sees the tiers to join; a member sees their membership and the courses.
 * At most 3 API calls: login (only without a token), GET /me/, then tiers (visitor) or courses (member).
 * The creator's brand (title bar, welcome, share titles) comes from storage (utils/brand.js): no call,
 * except once on the very first launch, after these three.
 */
const api = require('../../utils/api')
const {yuan, date} = require('../../utils/format')
const {sharePath} = require('../../utils/referral')
const storage = require('../../utils/storage')
const brand = require('../../utils/brand')

Component({
  data: {
    loading: true,
    error: '',
    member: false,
    nickname: '',
    memberNo: '',
    tierName: '',
    endsAt: '',
    referralCode: '',
    siteName: /** @type {string} */ (brand.DEFAULT.site_name),
    tagline: /** @type {string} */ (brand.DEFAULT.tagline),
    shareTitle: /** @type {string} */ (brand.DEFAULT.share_title),
    tiers: /** @type {any[]} */ ([]),
    courses: /** @type {any[]} */ ([]),
  },
  methods: {
    onLoad() {
      this.showBrand(brand.get())
      return this.load()
    },
    onShow() {
      this.showBrand(brand.apply())
    },

    /** @param {import('../../utils/brand').Brand} info */
    showBrand(info) {
      this.setData({siteName: info.site_name, tagline: info.tagline, shareTitle: info.share_title})
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const me = await api.get('/api/v1/me/')
        storage.setMyCode(me.referral_code)
        const member = !!me.membership
        /** @type {Record<string, any>} */
        const next = {
          loading: false,
          member,
          nickname: me.nickname,
          memberNo: me.member_no || '',
          referralCode: me.referral_code || '',
          tierName: member ? me.membership.tier : '',
          endsAt: member ? date(me.membership.ends_at) : '',
        }
        if (member) {
          const courses = await api.get('/api/v1/courses/')
          next.courses = courses.results.map((/** @type {any} */ c) => ({
            id: c.id,
            title: c.title,
            summary: c.summary || '',
            unlocked: !!c.unlocked,
          }))
        } else {
          const tiers = await api.get('/api/v1/membership/tiers/')
          next.tiers = tiers.map((/** @type {any} */ t) => ({code: t.code, name: t.name, price: yuan(t.price_fen), days: t.duration_days}))
        }
        this.setData(next)
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
      // The very first launch fetches the brand now, after the screen's own calls; later ones fetch it
      // only when an answer's X-Brand-Version said it changed. Shown once here, without waiting.
      brand.ensure().then(() => brand.whenFresh()).then(info => {
        this.showBrand(info)
        brand.apply()
      })
    },
    goTiers() {
      wx.switchTab({url: '/pages/tiers/index'})
    },
    goCircles() {
      wx.navigateTo({url: '/pkg-community/circles/index'})
    },
    goCamps() {
      wx.navigateTo({url: '/pkg-community/camps/index'})
    },
    goEvents() {
      wx.navigateTo({url: '/pkg-learning/events/index'})
    },
    goCourses() {
      wx.navigateTo({url: '/pkg-courses/list/index'})
    },
    /** @param {any} event */
    openCourse(event) {
      wx.navigateTo({url: `/pkg-courses/detail/index?id=${event.currentTarget.dataset.id}`})
    },
    onShareAppMessage() {
      return {title: this.data.shareTitle, path: sharePath('/pages/home/index', this.data.referralCode)}
    },
    onShareTimeline() {
      return {title: this.data.shareTitle, query: this.data.referralCode ? `ref=${this.data.referralCode}` : ''}
    },
  },
})
