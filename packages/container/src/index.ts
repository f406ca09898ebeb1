/**
 * @simkernel/container: the container kernel object of David Howells' 2019
 * series, built from ordinary namespaces (see README.md and API.md).
 */
export {
  Container,
  CONTAINER_FLAG_DEAD,
  CONTAINER_FLAG_INIT_STARTED,
  CONTAINER_FLAG_KILL_ON_CLOSE,
  CONTAINER_NAME_SIZE,
  type ContainerRusage
} from "./Container.js"
export { containerCloneFlags, Containers, type ContainersOptions, type ContainerWaitResult } from "./Containers.js"
export { containerFops, containerFromFile, containerGet } from "./file.js"
export { containerDie, KILLED_STATUS, killMembers } from "./lifecycle.js"
export { PROC_CONTAINERS_HEADER, procContainers } from "./proc.js"
export {
  CONTAINER_IOCTL_NOTIF_ID_VALID,
  CONTAINER_IOCTL_NOTIF_RECV,
  CONTAINER_IOCTL_NOTIF_SEND,
  CONTAINER_IOCTL_SUPERVISE,
  CONTAINER_NOTIF_FLAG_ALLOW,
  type ContainerNotif,
  type ContainerNotifResp,
  SUPERVISED_SYSCALLS,
  Supervisor,
  supervisorFops,
  supervisorFromFile
} from "./supervise.js"
