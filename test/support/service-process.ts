// The e2e tests that run the service as a real process import it from here.
export { type ServiceProcess, spawnService } from '../../tools/stack';
