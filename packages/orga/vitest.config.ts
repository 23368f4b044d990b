import { packageTestConfig } from '../../vitest.package.js'

export default packageTestConfig({ coverageExclude: ['src/**/port.ts'] })
