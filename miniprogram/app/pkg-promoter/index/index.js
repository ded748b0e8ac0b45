// @ts-check
/**
 * 推广中心: my referral code and link (GET /api/v1/referrals/me/), earnings, and withdrawals
 * (GET /api/v1/wallet/, /wallet/withdrawals/). A WeChat transfer waits for the member to confirm receipt:
 * GET …/confirm/ gives wx.requestMerchantTransfer's arguments, and after its success POST …/confirm/
 * lets the server ask WeChat for the result.
 */
const api = require('../../utils/api')
const brand = require('../../utils/brand')
const {yuan, date} = require('../../utils/format')
const {sharePath} = require('../../utils/referral')
const subscribe = require('../../utils/subscribe')

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
  },
  methods: {
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const [mine, wallet, withdrawals, subscribeIds] = await Promise.all([
          api.get('/api/v1/referrals/me/'),
          api.get('/api/v1/wallet/'),
          api.get('/api/v1/wallet/withdrawals/'),
          subscribe.templateIds(['withdrawal_result']),
        ])
        this.setData({
          loading: false,
          subscribeIds,
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
