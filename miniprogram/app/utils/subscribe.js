// @ts-check
/**
 * Subscribe-message opt-ins. WeChat only shows wx.requestSubscribeMessage from a tap, so a page fetches the
 * template ids when it loads (`templateIds`), and its tap handler calls `ask` first, then does its work.
 * The member's answers go to POST /api/v1/notifications/opt-ins/, which counts one message per "accept".
 */
const api = require('./api')

/**
 * @param {string[]} keys template keys, e.g. ['renewal_reminder']
 * @returns {Promise<string[]>} WeChat template ids configured for those keys
 */
async function templateIds(keys) {
  try {
    const result = await api.get('/api/v1/notifications/opt-ins/')
    return result.opt_ins.filter((/** @type {any} */ t) => keys.includes(t.template_key) && t.template_id).map((/** @type {any} */ t) => t.template_id)
  } catch (error) {
    return [] // opt-ins are optional: never block the page
  }
}

/**
 * @param {string[]} ids
 * @returns {Promise<Record<string, string> | null>} what was recorded, or null
 */
function ask(ids) {
  if (!ids || !ids.length) return Promise.resolve(null)
  return new Promise(resolve => {
    wx.requestSubscribeMessage({
      tmplIds: ids,
      success: res => {
        /** @type {Record<string, string>} */
        const results = {}
        for (const id of ids) {
          const answer = /** @type {any} */ (res)[id]
          if (typeof answer === 'string') results[id] = answer
        }
        if (!Object.keys(results).length) return resolve(null)
        api.post('/api/v1/notifications/opt-ins/', {results}).then(() => resolve(results), () => resolve(null))
        return undefined
      },
      fail: () => resolve(null),
    })
  })
}

module.exports = {templateIds, ask}
