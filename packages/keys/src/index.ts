export {
  Key,
  type KeyAce,
  type KeyContainer,
  type KeyState,
  type KeyType,
  KEY_TYPE_KEYRING,
  KEY_TYPE_LOGON,
  KEY_TYPE_REQUEST_KEY_AUTH,
  KEY_TYPE_USER,
  KEY_TYPES,
  type KeyUser,
  type RequestKeyAuth
} from "./Key.js"
export {
  type KeyCaller,
  KeyConstructionWait,
  Keys,
  type KeysOptions,
  type RequestKeyAuthInfo,
  type RequestKeyHelper,
  type RequestKeyUpcall
} from "./Keys.js"
export { type ContainerResolver, keyctl, noContainers } from "./keyctl.js"
export { procKeys, procKeyUsers } from "./proc.js"
