/** Two projects: `unit` (miniprogram-simulate renders pages with a mocked wx) and `e2e` (the real page code in
 * Node against a live server, started by tests/miniprogram/test_journeys.py). */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/tests/unit/**/*.test.js'],
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/tests/e2e/**/*.test.js'],
    },
  ],
}
