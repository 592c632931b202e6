import type { Metadata } from 'next';
import { StackList } from '../../../components/stacks/stack-list';

export const metadata: Metadata = { title: 'Stacks · BuildIt' };

export default function StacksPage() {
  return <StackList />;
}
