/*
 * The ceiling for intake: a bare NestJS 11 app on @nestjs/platform-fastify with one route that
 * answers {"ok":true}. Started by bench/ceiling.ts in a child process (tools/stack forkModule),
 * like the service, so both pay the same framework, ts-node and sampling costs and differ only
 * in what the service does per request.
 *
 * The route has the intake's method, path and status, so the generator that loads the service
 * loads this unchanged (the JSON body is parsed by Fastify and ignored).
 */
import 'reflect-metadata';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

@Controller()
class CeilingController {
  @Post('v1/notifications')
  @HttpCode(202)
  accept(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [CeilingController] })
class CeilingModule {}

export async function start({
  port,
}: {
  port: number;
}): Promise<{ url: string; close(): Promise<void> }> {
  const app = await NestFactory.create<NestFastifyApplication>(
    CeilingModule,
    new FastifyAdapter(),
    { logger: false },
  );
  await app.listen(port, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
