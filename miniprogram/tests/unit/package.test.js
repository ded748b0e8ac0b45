/** WeChat's package limits (main ≤ 1.5 MB, each subpackage ≤ 2 MB, all ≤ 20 MB) and the project layout. */
const fs = require('fs')
const path = require('path')
const {APP} = require('./helpers')

const MB = 1024 * 1024
const appJson = JSON.parse(fs.readFileSync(path.join(APP, 'app.json'), 'utf8'))

function files(dir) {
  return fs.readdirSync(dir, {withFileTypes: true}).flatMap(entry => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? files(full) : [full]
  })
}

function sizes() {
  const roots = appJson.subPackages.map(p => p.root.replace(/\/$/, ''))
  const result = {main: 0, ...Object.fromEntries(roots.map(r => [r, 0]))}
  for (const file of files(APP)) {
    const rel = path.relative(APP, file).split(path.sep).join('/')
    const root = roots.find(r => rel.startsWith(`${r}/`))
    result[root || 'main'] += fs.statSync(file).size
  }
  return result
}

test('main package ≤ 1.5 MB, each subpackage ≤ 2 MB, all ≤ 20 MB', () => {
  const measured = sizes()
  console.log(`package sizes (bytes): ${JSON.stringify(measured)}`)
  expect(measured.main).toBeLessThanOrEqual(1.5 * MB)
  for (const [root, size] of Object.entries(measured)) {
    if (root !== 'main') expect({root, size: size <= 2 * MB}).toEqual({root, size: true})
  }
  expect(Object.values(measured).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(20 * MB)
})

test('every page listed in app.json exists with its four files, and tab pages are in the main package', () => {
  const pages = [...appJson.pages, ...appJson.subPackages.flatMap(p => p.pages.map(page => `${p.root}/${page}`))]
  for (const page of pages) {
    for (const ext of ['js', 'json', 'wxml', 'wxss']) expect(fs.existsSync(path.join(APP, `${page}.${ext}`))).toBe(true)
  }
  for (const tab of appJson.tabBar.list) expect(appJson.pages).toContain(tab.pagePath)
})

test('the appid is set in project.config.json only', () => {
  const project = JSON.parse(fs.readFileSync(path.join(APP, '../project.config.json'), 'utf8'))
  expect(project.miniprogramRoot).toBe('app/')
  expect(project.appid).toBeTruthy()
  for (const file of files(APP)) expect(fs.readFileSync(file, 'utf8')).not.toMatch(/\bwx[0-9a-f]{16}\b/)
})
