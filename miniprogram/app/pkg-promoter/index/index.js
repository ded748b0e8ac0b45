// @ts-check
/**
 * 推广中心: the promoter agreement (GET /api/v1/referrals/agreement/, accepted with the version shown:
 * commission is earned only after it), my referral code and link (GET /api/v1/referrals/me/), the poster
 * (GET /api/v1/referrals/poster/, a PNG saved to the album — a refused album permission leads to the
 * settings), the people I invited (GET /api/v1/referrals/invited/), earnings, and withdrawals
 * (GET /api/v1/wallet/, /wallet/withdrawals/). A WeChat transfer waits for the member to confirm receipt:
 * GET …/confirm/ gives wx.requestMerchantTransfer's arguments, and after its success POST …/confirm/
 * lets the server ask WeChat for the result.
 */
const api = require('../../utils/api')
const brand = require('../../utils/brand')
const {yuan, date} = require('../../utils/format')
const {sharePath} = require('../../utils/referral')
const subscribe = require('../../utils/subscribe')

/**
 * wx.saveImageToPhotosAlbum; a refused permission (now or before) offers WeChat's settings page, where the
 * member may allow it and try again.
 * @param {string} filePath
 * @returns {Promise<'saved' | 'denied' | 'cancelled'>}
 */
function saveToAlbum(filePath) {
  return new Promise(resolve => {
    wx.saveImageToPhotosAlbum({
      filePath,
      success: () => resolve('saved'),
      fail: err => {
        const message = (err && err.errMsg) || ''
        if (!/auth|deny|denied|authorize/i.test(message)) return resolve('cancelled')
        wx.showModal({
          title: '需要相册权限',
          content: '保存海报需要允许「保存到相册」，可在设置中开启',
          confirmText: '去设置',
          success: res => {
            if (res.confirm) wx.openSetting({})
            resolve('denied')
          },
          fail: () => resolve('denied'),
        })
        return undefined
      },
    })
  })
}

Component({
  data: {
    loading: true,
    error: '',
    code: '',
    shareUrl: '',
    invited: 0,
    pending: '',
    available: '',
    withdrawn: '',
    availableFen: 0,
    canWithdraw: false,
    method: '',
    minFen: 0,
    withdrawals: /** @type {any[]} */ ([]),
    notice: '',
    busy: false,
    subscribeIds: /** @type {string[]} */ ([]),
    agreementVersion: 0,
    agreementTitle: '',
    agreementBody: '',
    agreed: false,
    showAgreement: false,
    invitees: /** @type {any[]} */ ([]),
    posterPath: '',
  },
  methods: {
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const [mine, wallet, withdrawals, subscribeIds, agreement, invited] = await Promise.all([
          api.get('/api/v1/referrals/me/'),
          api.get('/api/v1/wallet/'),
          api.get('/api/v1/wallet/withdrawals/'),
          subscribe.templateIds(['withdrawal_result']),
          api.get('/api/v1/referrals/agreement/'),
          api.get('/api/v1/referrals/invited/'),
        ])
        this.setData({
          loading: false,
          subscribeIds,
          agreementVersion: agreement.version || 0,
          agreementTitle: agreement.title || '推广员协议',
          agreementBody: agreement.body || '',
          agreed: !!agreement.accepted,
          invitees: invited.results.map((/** @type {any} */ b) => ({
            name: b.name,
            bound: date(b.bound_at),
            paid: !!b.has_paid,
          })),
          code: mine.code,
          shareUrl: mine.share_url,
          invited: mine.invited_count,
          pending: yuan(mine.earnings.pending_fen),
          available: yuan(mine.earnings.available_fen),
          withdrawn: yuan(mine.earnings.withdrawn_fen),
          availableFen: wallet.available_fen,
          canWithdraw: !!wallet.can_withdraw && wallet.available_fen >= wallet.min_amount_fen,
          method: (wallet.methods || [])[0] || '',
          minFen: wallet.min_amount_fen,
          withdrawals: withdrawals.results.map((/** @type {any} */ w) => ({
            id: w.id,
            amount: yuan(w.amount_fen),
            status: w.status_display,
            needsConfirmation: !!w.needs_confirmation,
            created: date(w.created_at),
          })),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    toggleAgreement() {
      this.setData({showAgreement: !this.data.showAgreement})
    },
    /** Accept the version shown (an outdated one is refused with 409: the newest is shown again). */
    async acceptAgreement() {
      if (!this.data.agreementVersion || this.data.busy) return null
      this.setData({busy: true, notice: ''})
      try {
        await api.post('/api/v1/referrals/agreement/accept/', {version: this.data.agreementVersion})
        this.setData({busy: false, agreed: true, showAgreement: false, notice: '已同意推广员协议，推广成交后即可获得佣金'})
        return true
      } catch (error) {
        this.setData({busy: false, notice: error.message || '操作失败'})
        if (error.code === 'agreement_outdated') await this.load()
        return false
      }
    },
    /** The poster PNG from the server, previewed and saved to the album. */
    async savePoster() {
      if (this.data.busy) return null
      this.setData({busy: true, notice: ''})
      try {
        const path = this.data.posterPath || (await api.download('/api/v1/referrals/poster/'))
        this.setData({posterPath: path})
        const saved = await saveToAlbum(path)
        this.setData({busy: false, notice: saved === 'saved' ? '海报已保存到相册' : saved === 'denied' ? '未获得相册权限，海报未保存' : ''})
        return saved
      } catch (error) {
        this.setData({busy: false, notice: error.message || '海报生成失败'})
        return null
      }
    },
    copyLink() {
      wx.setClipboardData({data: this.data.shareUrl})
    },
    /** Withdraw everything available (the server checks limits and real-name rules). */
    async withdraw() {
      if (!this.data.canWithdraw || this.data.busy) return null
      await subscribe.ask(this.data.subscribeIds) // 提现结果通知, asked on the tap
      this.setData({busy: true, notice: ''})
      try {
        const withdrawal = await api.post('/api/v1/wallet/withdrawals/', {
          amount_fen: this.data.availableFen,
          method: this.data.method,
          request_id: `mp-${Date.now()}`,
        })
        this.setData({notice: `已申请提现 ${yuan(withdrawal.amount_fen)}，${withdrawal.status_display}`})
      } catch (error) {
        this.setData({notice: error.message || '提现失败'})
      }
      this.setData({busy: false})
      return this.load()
    },
    /** @param {any} event */
    confirm(event) {
      return this.confirmReceipt(Number(event.currentTarget.dataset.id))
    },
    /** @param {number} id */
    async confirmReceipt(id) {
      this.setData({busy: true, notice: ''})
      try {
        const params = await api.get(`/api/v1/wallet/withdrawals/${id}/confirm/`)
        const ok = await new Promise(resolve => {
          /** @type {any} */ (wx).requestMerchantTransfer({
            mchId: params.mch_id,
            appId: params.app_id,
            package: params.package_info,
            success: () => resolve(true),
            fail: () => resolve(false),
          })
        })
        if (ok) {
          const result = await api.post(`/api/v1/wallet/withdrawals/${id}/confirm/`, {})
          this.setData({notice: `收款确认：${result.status_display}`})
        } else {
          this.setData({notice: '未确认收款，可在 24 小时内再次确认'})
        }
      } catch (error) {
        this.setData({notice: error.message || '确认失败'})
      }
      this.setData({busy: false})
      return this.load()
    },
    onShareAppMessage() {
      return {title: `邀请你加入${brand.get().site_name}`, path: sharePath('/pages/home/index', this.data.code)}
    },
  },
})
