import { SetMetadata } from '@nestjs/common';

export const SEND_ROUTE = 'sandbox:send-route';

/** Marks the send route, the one injected errors hit when the fault scope is "send". */
export const SendRoute = () => SetMetadata(SEND_ROUTE, true);
