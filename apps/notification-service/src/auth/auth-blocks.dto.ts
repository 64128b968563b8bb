import { ApiProperty } from '@nestjs/swagger';
import { IsIn, Matches } from 'class-validator';
import { BLOCK_KINDS, type BlockKind } from './auth-failure-limiter';

export class BlockKindParam {
  @IsIn(BLOCK_KINDS)
  kind!: BlockKind;

  /** An IPv4/IPv6 address or /64, or a key prefix (nk_ and five characters). */
  @Matches(/^[0-9A-Za-z_.:/-]{1,64}$/, { message: 'value must be an address or a key prefix' })
  value!: string;
}

export class AuthBlockResponse {
  @ApiProperty({ enum: BLOCK_KINDS, example: 'address' })
  kind!: BlockKind;

  @ApiProperty({
    example: '203.0.113.7',
    description: 'The client address (IPv6 as its /64, e.g. 2001:db8:0:1::/64) or key prefix',
  })
  value!: string;

  @ApiProperty({ example: 20, description: 'Failed authentications counted in the window' })
  failures!: number;

  @ApiProperty({ example: '2026-12-06T19:31:00.000Z', description: 'When the block ends' })
  blocked_until!: string;
}
