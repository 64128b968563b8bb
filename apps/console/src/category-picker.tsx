import { MESSAGE_CATEGORIES, type MessageCategory } from '@app/api-client';
import { categoryOf } from './format';

/** The category filter of a search form: `every` names the choice of no filter ("all", "any"). */
export function CategoryPicker({
  value,
  every,
  onChange,
}: {
  value: MessageCategory | '';
  every: string;
  onChange: (category: MessageCategory | '') => void;
}) {
  return (
    <label>
      Category
      <select value={value} onChange={(e) => onChange(categoryOf(e.currentTarget.value))}>
        <option value="">{every}</option>
        {MESSAGE_CATEGORIES.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );
}
