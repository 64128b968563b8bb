import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import { MAX_API_KEYS_LISTED } from './api-keys-list';
import { ApiKey } from './entities/api-key.entity';

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectRepository(ApiKey) private readonly repo: Repository<ApiKey>) {}

  findActiveByHash(keyHash: string): Promise<ApiKey | null> {
    return this.repo.findOne({ where: { keyHash, revokedAt: IsNull() } });
  }

  create(
    fields: Pick<ApiKey, 'name' | 'team' | 'scopes' | 'keyHash' | 'keyPrefix'>,
  ): Promise<ApiKey> {
    return this.repo.save(this.repo.create({ ...fields, lastUsedAt: null, revokedAt: null }));
  }

  findById(id: string): Promise<ApiKey | null> {
    return this.repo.findOne({ where: { id } });
  }

  /** Active keys first, then revoked ones, each oldest first: at most MAX_API_KEYS_LISTED. */
  list(team?: string): Promise<ApiKey[]> {
    const query = this.repo.createQueryBuilder('k');
    if (team !== undefined) query.where('k.team = :team', { team });
    return query
      .orderBy('k.revoked_at IS NOT NULL', 'ASC')
      .addOrderBy('k.created_at', 'ASC')
      .addOrderBy('k.id', 'ASC')
      .limit(MAX_API_KEYS_LISTED)
      .getMany();
  }

  async revoke(id: string): Promise<boolean> {
    const result = await this.repo.update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }

  /** Whether any unrevoked key carries the admin scope (the only way to mint more keys). */
  async hasActiveAdminKey(): Promise<boolean> {
    const found = await this.repo
      .createQueryBuilder('k')
      .where('k.revoked_at IS NULL')
      .andWhere(`'admin' = ANY(k.scopes)`)
      .getExists();
    return found;
  }

  async touch(id: string): Promise<void> {
    await this.repo.update({ id }, { lastUsedAt: new Date() });
  }
}
