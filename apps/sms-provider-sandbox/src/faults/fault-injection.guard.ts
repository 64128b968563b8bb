import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxError } from '../common/sandbox-error';
import { SEND_ROUTE } from './fault-target.decorator';
import { FaultsService } from './faults.service';

@Injectable()
export class FaultInjectionGuard implements CanActivate {
  constructor(
    private readonly faults: FaultsService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { latencyMs } = this.faults.current();
    if (latencyMs > 0) await sleep(latencyMs);
    const isSendRoute =
      this.reflector.get<boolean | undefined>(SEND_ROUTE, context.getHandler()) === true;
    if (this.faults.shouldFail(isSendRoute)) {
      // Thrown before the handler runs: an injected error never sends anything or spends credits.
      throw new SandboxError(
        HttpStatus.INTERNAL_SERVER_ERROR,
        'server_error',
        'Internal server error (injected by the sandbox)',
      );
    }
    return true;
  }
}
